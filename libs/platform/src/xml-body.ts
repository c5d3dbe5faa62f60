import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';

/**
 * The other exception to JSON bodies (beside a bulk import's file): EPCIS capture takes the EPCIS XML
 * binding too (`POST /v1/epcis/capture`, and `POST /v1/epcis/events` for one event, as application/xml
 * or text/xml). Such a body is read as text into `req.body` for the epcis service to map; every other
 * non-JSON body stays a 415.
 */
const XML_ROUTE = /^\/v1\/epcis\/(capture|events)\/?$/;
const XML_TYPES = ['application/xml', 'text/xml', 'application/*+xml'];
const XML_LIMIT = '20mb';
const XML = Symbol('xml-body');

const text = express.text({ type: () => true, limit: XML_LIMIT });

export function xmlBody(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !XML_ROUTE.test(req.path) || !req.is(XML_TYPES)) return next();
    text(req, res, (err?: unknown) => {
      if (err) return next(err);
      (req as Request & { [XML]?: boolean })[XML] = true;
      next();
    });
  };
}

export const isXmlBody = (req: Request): boolean => (req as Request & { [XML]?: boolean })[XML] === true;
