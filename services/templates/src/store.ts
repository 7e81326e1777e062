import type { Template, TemplateSummary, TemplateType, TemplateVersionSummary } from '@switchyard/contracts';
import type { Queryable } from '@switchyard/kernel';
import type { ListCursor, VersionCursor } from './domain.ts';
import { templateVariables } from './render.ts';

interface TemplateRow {
  id: string;
  code: string;
  name: string;
  type: TemplateType;
  subject: string | null;
  content: string;
  text_content: string | null;
  language: string;
  version: number;
  is_active: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, code, name, type, subject, content, text_content, language, version, is_active,
  created_by, created_at, updated_at`;
const SUMMARY_COLUMNS =
  'id, code, language, version, name, type, is_active, created_by, created_at, updated_at';

/**
 * The variables a stored version reads. It parsed when it was written; should a later LiquidJS refuse it,
 * the version is still shown (with no variables) and its render says why.
 */
function variablesOf(row: TemplateRow): string[] {
  try {
    return templateVariables(row, row.id);
  } catch {
    return [];
  }
}

function toTemplate(row: TemplateRow): Template {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    type: row.type,
    subject: row.subject,
    content: row.content,
    text_content: row.text_content,
    language: row.language,
    version: row.version,
    is_active: row.is_active,
    variables: variablesOf(row),
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toSummary(row: Omit<TemplateRow, 'subject' | 'content' | 'text_content'>): TemplateVersionSummary {
  return {
    id: row.id,
    code: row.code,
    language: row.language,
    version: row.version,
    name: row.name,
    type: row.type,
    is_active: row.is_active,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * Serialises writes to one code until the end of the transaction: the next version number, the type a
 * code keeps across languages and the one active version are all decided by reading first, and two writers
 * reading at once would decide the same thing. Codes that share a hash only wait for each other.
 */
export async function lockCode(tx: Queryable, code: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchyard:templates:${code}`]);
}

/** The type the code has in its other languages, if it exists at all. */
export async function codeType(db: Queryable, code: string): Promise<TemplateType | undefined> {
  const result = await db.query<{ type: TemplateType }>(
    'SELECT type FROM templates.templates WHERE code = $1 LIMIT 1',
    [code],
  );
  return result.rows[0]?.type;
}

export async function latestVersion(db: Queryable, code: string, language: string): Promise<Template | null> {
  const result = await db.query<TemplateRow>(
    `SELECT ${COLUMNS} FROM templates.templates WHERE code = $1 AND language = $2
      ORDER BY version DESC LIMIT 1`,
    [code, language],
  );
  const row = result.rows[0];
  return row ? toTemplate(row) : null;
}

export async function findVersion(
  db: Queryable,
  code: string,
  language: string,
  version: number,
): Promise<Template | null> {
  const result = await db.query<TemplateRow>(
    `SELECT ${COLUMNS} FROM templates.templates WHERE code = $1 AND language = $2 AND version = $3`,
    [code, language, version],
  );
  const row = result.rows[0];
  return row ? toTemplate(row) : null;
}

/** The active version of the code in each of `languages` that has one (the render path's one query). */
export async function activeIn(db: Queryable, code: string, languages: string[]): Promise<Template[]> {
  const result = await db.query<TemplateRow>(
    `SELECT ${COLUMNS} FROM templates.templates WHERE code = $1 AND language = ANY($2::text[]) AND is_active`,
    [code, languages],
  );
  return result.rows.map(toTemplate);
}

/** The languages the code is live in, for a 404 that says where it could be found. */
export async function activeLanguages(db: Queryable, code: string): Promise<string[]> {
  const result = await db.query<{ language: string }>(
    'SELECT language FROM templates.templates WHERE code = $1 AND is_active ORDER BY language',
    [code],
  );
  return result.rows.map((row) => row.language);
}

/** The languages the code has versions in (live or not). */
export async function languagesOf(db: Queryable, code: string): Promise<string[]> {
  const result = await db.query<{ language: string }>(
    'SELECT DISTINCT language FROM templates.templates WHERE code = $1 ORDER BY language',
    [code],
  );
  return result.rows.map((row) => row.language);
}

export async function insertVersion(tx: Queryable, template: Template): Promise<void> {
  await tx.query(
    `INSERT INTO templates.templates (id, code, name, type, subject, content, text_content, language,
       version, is_active, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
    [
      template.id,
      template.code,
      template.name,
      template.type,
      template.subject,
      template.content,
      template.text_content,
      template.language,
      template.version,
      template.is_active,
      template.created_by,
      template.created_at,
    ],
  );
}

/**
 * Takes the live version of the code down in `language` (every language when null) and returns what was
 * live. Run before making another version live: the one-active index is checked per statement.
 */
export async function deactivate(
  tx: Queryable,
  code: string,
  language: string | null,
  now: Date,
): Promise<Template[]> {
  const result = await tx.query<TemplateRow>(
    `UPDATE templates.templates SET is_active = false, updated_at = $3
      WHERE code = $1 AND ($2::text IS NULL OR language = $2) AND is_active
      RETURNING ${COLUMNS}`,
    [code, language, now],
  );
  return result.rows.map(toTemplate).sort((a, b) => a.language.localeCompare(b.language));
}

export async function activate(tx: Queryable, id: string, now: Date): Promise<Template> {
  const result = await tx.query<TemplateRow>(
    `UPDATE templates.templates SET is_active = true, updated_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, now],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`template version ${id} vanished inside its own transaction`);
  return toTemplate(row);
}

/** One page of a code's history in one language, newest first. */
export async function listVersions(
  db: Queryable,
  code: string,
  language: string,
  page: { after?: VersionCursor; limit: number },
): Promise<TemplateVersionSummary[]> {
  const result = await db.query<TemplateRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM templates.templates
      WHERE code = $1 AND language = $2 AND ($3::integer IS NULL OR version < $3)
      ORDER BY version DESC LIMIT $4`,
    [code, language, page.after?.version ?? null, page.limit],
  );
  return result.rows.map(toSummary);
}

export interface ListQuery {
  type?: TemplateType;
  code?: string;
  language?: string;
  /** true: only those with a live version; false: only those with none. */
  active?: boolean;
  after?: ListCursor;
  limit: number;
}

interface SummaryRow {
  code: string;
  language: string;
  type: TemplateType;
  name: string;
  latest_version: number;
  active_version: number | null;
  created_at: Date;
  updated_at: Date;
}

/** One page of (code, language) pairs in code then language order, each with its latest version. */
export async function listTemplates(db: Queryable, query: ListQuery): Promise<TemplateSummary[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (query.type) where.push(`type = ${bind(query.type)}`);
  if (query.code) where.push(`code = ${bind(query.code)}`);
  if (query.language) where.push(`language = ${bind(query.language)}`);
  if (query.after) {
    where.push(`(code, language) > (${bind(query.after.code)}, ${bind(query.after.language)})`);
  }
  const active = query.active === undefined ? '' : `WHERE live.id IS ${query.active ? 'NOT NULL' : 'NULL'}`;
  const result = await db.query<SummaryRow>(
    `SELECT latest.code, latest.language, latest.type, latest.name, latest.version AS latest_version,
            live.version AS active_version, first.created_at, latest.created_at AS updated_at
       FROM (SELECT DISTINCT ON (code, language) code, language, type, name, version, created_at
               FROM templates.templates
               ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
              ORDER BY code, language, version DESC) latest
       JOIN templates.templates first
         ON first.code = latest.code AND first.language = latest.language AND first.version = 1
       LEFT JOIN templates.templates live
         ON live.code = latest.code AND live.language = latest.language AND live.is_active
      ${active}
      ORDER BY latest.code, latest.language
      LIMIT ${bind(query.limit)}`,
    values,
  );
  return result.rows.map((row) => ({
    code: row.code,
    language: row.language,
    type: row.type,
    name: row.name,
    latest_version: row.latest_version,
    active_version: row.active_version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }));
}
