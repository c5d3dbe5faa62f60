import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';

/** Spreadsheets a bulk import takes as its body (every other body of the API is JSON). */
export const UPLOAD_MEDIA_TYPES = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;
export type UploadFormat = keyof typeof UPLOAD_MEDIA_TYPES;

/** The routes that take a file: `POST /v1/{domain}/imports`. */
const UPLOAD_ROUTE = /^\/v1\/[a-z]+\/imports\/?$/;
/** Larger than any JSON body needs to be, smaller than a spreadsheet of 100,000 rows. */
export const UPLOAD_LIMIT = '20mb';

/** The file a request carried, kept apart from `req.body` so no JSON rule (string length, depth) walks its bytes. */
export interface Upload {
  format: UploadFormat;
  content: Buffer;
}

const raw = express.raw({ type: () => true, limit: UPLOAD_LIMIT });

/**
 * Reads the body of an upload route sent as CSV or XLSX into `req.upload`;
 * any other request passes untouched (its JSON body is parsed as before, and
 * a non-JSON body elsewhere stays a 415).
 */
export function uploadBody(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !UPLOAD_ROUTE.test(req.path)) return next();
    const format = (Object.keys(UPLOAD_MEDIA_TYPES) as UploadFormat[]).find((f) => req.is(UPLOAD_MEDIA_TYPES[f]));
    if (!format) return next();
    raw(req, res, (err?: unknown) => {
      if (err) return next(err);
      (req as Request & { upload?: Upload }).upload = { format, content: req.body as Buffer };
      req.body = undefined;
      next();
    });
  };
}

export const uploadOf = (req: Request): Upload | undefined => (req as Request & { upload?: Upload }).upload;
