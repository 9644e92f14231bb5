import { request } from 'node:http';
import { scaled } from '../helpers/time-scale.js';

/** A finished HTTP exchange. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request over a fresh connection (no keep-alive agent, so nothing outlives the test). */
export function httpRequest(url: string, options: { method?: string; path?: string } = {}): Promise<HttpAnswer> {
  const target = new URL(options.path ?? '/', url);
  return new Promise((resolve, reject) => {
    const req = request(target, { method: options.method ?? 'GET', agent: false, timeout: scaled(10_000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.href}`)));
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample line of a Prometheus text exposition, e.g. `latentcord_jobs_total{outcome="succeeded",error="none"}`. */
export function sampleValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
