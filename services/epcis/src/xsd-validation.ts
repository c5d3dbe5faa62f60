import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** GS1's XSDs (libs/epcis/src/schema/xsd, copied from the standard), by the root element's namespace. */
const XSD_DIR = join(__dirname, '../../../libs/epcis/src/schema/xsd');
export const XSD_BY_NAMESPACE: Record<string, string> = {
  'urn:epcglobal:epcis:xsd:2': join(XSD_DIR, '2.0/EPCglobal-epcis-2_0.xsd'),
  'urn:epcglobal:epcis-query:xsd:2': join(XSD_DIR, '2.0/EPCglobal-epcis-query-2_0.xsd'),
  'urn:epcglobal:epcis:xsd:1': join(XSD_DIR, '1.2/EPCglobal-epcis-1_2.xsd'),
  'urn:epcglobal:epcis-query:xsd:1': join(XSD_DIR, '1.2/EPCglobal-epcis-query-1_2.xsd'),
};

/**
 * libxml2 (compiled to WebAssembly) is an ES module with a top-level await: it runs in a worker thread
 * of its own, which also keeps schema validation of large documents off the event loop. Each
 * request names the XSD by path; a schema is compiled once and kept.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const ready = (async () => {
  const lib = await import(workerData.index);
  const node = await import(workerData.nodejs);
  node.xmlRegisterFsInputProviders();
  return lib;
})();
const validators = new Map();
parentPort.on('message', async ({ id, xml, xsd }) => {
  try {
    const { XmlDocument, XsdValidator } = await ready;
    if (!validators.has(xsd)) validators.set(xsd, XsdValidator.fromDoc(XmlDocument.fromBuffer(readFileSync(xsd), { url: xsd })));
    let doc;
    try {
      doc = XmlDocument.fromString(xml);
    } catch (e) {
      return parentPort.postMessage({ id, errors: (e.details || [{ message: e.message }]).map((d) => ({ line: d.line, message: String(d.message).trim() })) });
    }
    try {
      validators.get(xsd).validate(doc);
      parentPort.postMessage({ id, errors: [] });
    } catch (e) {
      parentPort.postMessage({ id, errors: (e.details || [{ message: e.message }]).map((d) => ({ line: d.line, message: String(d.message).trim() })) });
    } finally {
      doc.dispose();
    }
  } catch (e) {
    parentPort.postMessage({ id, failure: String(e && e.message || e) });
  }
});
`;

export interface XsdProblem {
  field: string;
  message: string;
}

@Injectable()
export class XsdValidation implements OnModuleDestroy {
  private worker?: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (p: XsdProblem[]) => void; reject: (e: Error) => void }>();

  /** The document's problems against GS1's XSD for its namespace ([] when valid). */
  async validate(xml: string, namespace: string): Promise<XsdProblem[]> {
    const xsd = XSD_BY_NAMESPACE[namespace];
    if (!xsd) return [{ field: '/', message: `${namespace || 'no namespace'} is not an EPCIS 2.0 or 1.2 namespace` }];
    const worker = this.start();
    const id = this.next++;
    return new Promise<XsdProblem[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, xml, xsd });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const index = require.resolve('libxml2-wasm');
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { index: pathToFileURL(index).href, nodejs: pathToFileURL(join(dirname(index), 'nodejs.mjs')).href },
    });
    worker.unref();
    worker.on('message', (m: { id: number; errors?: { line?: number; message: string }[]; failure?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.failure !== undefined) p.reject(new Error(`XSD validation failed: ${m.failure}`));
      else p.resolve((m.errors ?? []).map((e) => ({ field: e.line ? `line ${e.line}` : '/', message: e.message })));
    });
    worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }

  async onModuleDestroy() {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
