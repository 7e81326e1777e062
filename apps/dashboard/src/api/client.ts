import createClient from 'openapi-fetch';
import { authorizedFetch } from '../session.ts';
import type { paths } from './schema.d.ts';

export type { components, paths } from './schema.d.ts';

export interface FieldError {
  field: string;
  in?: string;
  reason: string;
}

/** An RFC 9457 problem document, as every Switchyard route answers errors. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
    this.problem = problem;
  }

  /** The reason the API gave for one field, for the message under that input. */
  fieldError(field: string): string | undefined {
    return this.problem.errors?.find((error) => error.field === field || error.field.startsWith(`${field}.`))
      ?.reason;
  }
}

/** The API client: paths, parameters and bodies typed from the server's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: window.location.origin, fetch: authorizedFetch });

function asProblem(error: unknown, response: Response): Problem {
  if (error && typeof error === 'object' && 'title' in error) return error as Problem;
  return { title: response.statusText || 'Request failed', status: response.status };
}

/** The data of a call, or an ApiError carrying its problem document. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(asProblem(error, response));
  return data as T;
}
