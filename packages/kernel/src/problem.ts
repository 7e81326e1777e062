/** One field that failed validation: where it is and why it was refused. */
export interface FieldError {
  /** Dotted path of the offending field inside its request part, e.g. `title` or `items.0.name`. */
  field: string;
  /** Which part of the request held it. */
  in: 'body' | 'query' | 'path' | 'header';
  reason: string;
}

/** RFC 9457 problem details, with `errors` as the extension member for field-level failures. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://switchyard.dev/problems/';

/** Throw from a handler to answer with a problem document. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly problem: ProblemDetails;

  constructor(
    status: number,
    slug: string,
    title: string,
    detail?: string,
    extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
    this.status = status;
    this.problem = {
      type: `${PROBLEM_TYPE_BASE}${slug}`,
      title,
      status,
      ...(detail ? { detail } : {}),
      ...extra,
    };
  }
}

export const problems = {
  notFound: (what: string, id: string) =>
    new HttpProblem(404, 'not-found', 'Not Found', `${what} ${id} does not exist`),
  validation: (errors: FieldError[], detail = 'The request has invalid fields') =>
    new HttpProblem(400, 'validation', 'Bad Request', detail, { errors }),
  badRequest: (detail: string) => new HttpProblem(400, 'bad-request', 'Bad Request', detail),
  conflict: (detail: string) => new HttpProblem(409, 'conflict', 'Conflict', detail),
};

export function problemOf(status: number, slug: string, title: string, detail?: string): ProblemDetails {
  return new HttpProblem(status, slug, title, detail).problem;
}
