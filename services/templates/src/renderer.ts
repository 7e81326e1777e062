import {
  type RenderedTemplate,
  type ServiceDeps,
  TEMPLATE_CODE_PATTERN,
  type Template,
  type TemplateRenderer,
} from '@switchyard/contracts';
import type { TemplateCache } from './cache.ts';
import {
  languageFallbacks,
  languageOf,
  noActiveVersion,
  renderFailed,
  unknownTemplate,
  wrongChannel,
} from './domain.ts';
import { type RenderOutput, renderTemplate } from './render.ts';
import { activeIn, activeLanguages } from './store.ts';

const CODE = new RegExp(TEMPLATE_CODE_PATTERN);

export interface Lookup {
  /**
   * The live version that serves `code` in `language` (canonical): the first of its fallback chain that
   * has one. Throws a 404 naming the languages tried and those the code is live in.
   */
  active(code: string, language: string): Promise<Template>;
}

export function createLookup(deps: Pick<ServiceDeps, 'db'>, cache: TemplateCache): Lookup {
  return {
    async active(code, language) {
      const chain = languageFallbacks(language);
      const found = await cache.active(code, chain, (languages) => activeIn(deps.db, code, languages));
      for (const candidate of chain) {
        const template = found.get(candidate);
        if (template) return template;
      }
      throw noActiveVersion(code, chain, await activeLanguages(deps.db, code));
    },
  };
}

/** Renders a version or throws the 422 that names what is missing or wrong. */
export function renderOrThrow(template: Template, variables: Record<string, unknown>): RenderOutput {
  const result = renderTemplate(template, variables, { key: template.id });
  if (!result.ok) throw renderFailed(result.kind, result.errors, result.missing);
  return result.value;
}

/**
 * The templates module as the notification pipeline sees it. Errors are the API's: 404 without a live
 * version in the language's chain, 422 naming each missing variable (`variables.user.name`), 422 naming
 * `channel` when the template is of another type, 400 naming `language` for a malformed tag.
 */
export function createTemplateRenderer(lookup: Lookup): TemplateRenderer {
  return {
    async render(request): Promise<RenderedTemplate> {
      if (!CODE.test(request.code)) throw unknownTemplate(request.code);
      const language = languageOf(request.language, 'language', 'body');
      const template = await lookup.active(request.code, language);
      if (request.channel !== undefined && request.channel !== template.type) {
        throw wrongChannel(template, request.channel);
      }
      const output = renderOrThrow(template, request.variables);
      return {
        templateId: template.id,
        code: template.code,
        language: template.language,
        version: template.version,
        type: template.type,
        ...output,
      };
    },
  };
}
