import { badJson } from './errors.js';

/** A JSON object body: the API's requests are JSON objects, nothing else (M_BAD_JSON otherwise). */
export type JsonObject = Record<string, unknown>;

export function objectBody(body: unknown): JsonObject {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw badJson('The request body must be a JSON object');
  return body as JsonObject;
}

export function optionalString(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badJson(`'${key}' must be a string`);
  return value;
}

export function requiredString(body: JsonObject, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) throw badJson(`'${key}' is missing`);
  return value;
}
