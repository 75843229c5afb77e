import express, { type RequestHandler } from 'express';

/**
 * Nesting allowed in a JSON body. Job data is flat (ids, a reason); 32 leaves room for any
 * honest use. JSON.parse copes with deep nesting, but serialising it again (BullMQ stores job
 * data as JSON.stringify) overflows the stack: a 1 MB `[[[…]]]` would answer 500.
 */
export const MAX_JSON_DEPTH = 32;

/** Depth of a parsed JSON value, iteratively (the point is not to recurse), stopping past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const here = depth + 1;
    if (here > max) max = here;
    if (max > limit) return max;
    for (const child of Object.values(node as Record<string, unknown>)) stack.push([child, here]);
  }
  return max;
}

/**
 * Parses JSON bodies of the dashboard's API (bull-board's own parser then sees the request
 * already read and keeps `req.body`) and refuses, with 400, a body nested deeper than allowed.
 */
export function boundedJson(options: { limit?: string; maxDepth?: number } = {}): RequestHandler[] {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  return [
    express.json({ limit: options.limit ?? '64kb' }),
    (req, res, next) => {
      if (req.body !== undefined && jsonDepth(req.body, maxDepth) > maxDepth) {
        res.status(400).json({ error: 'bad request', message: `the JSON body is nested deeper than ${maxDepth} levels` });
        return;
      }
      next();
    },
  ];
}
