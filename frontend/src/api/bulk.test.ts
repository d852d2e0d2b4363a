import { describe, expect, it } from 'vitest';
import {
  cancelJob,
  downloadResults,
  downloadSample,
  getJob,
  getPreview,
  listJobs,
  listProblems,
  listResults,
  startJob,
  uploadCsv,
  uploadFile,
  type UploadStage,
} from './bulk';
import { ApiClient, ApiError } from './client';
import { DIRECT_UPLOAD_LIMIT } from '../lib/bulk';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A client whose fetch records each request and answers with answer(call) (default {} as JSON). */
function recording(answer: (c: Call) => Response = () => new Response('{}', { status: 200 })): { api: ApiClient; calls: Call[]; unauthorized: ApiError[] } {
  const calls: Call[] = [];
  const unauthorized: ApiError[] = [];
  const api = new ApiClient({
    getToken: () => 't',
    onUnauthorized: (e) => unauthorized.push(e),
    fetch: async (url, init) => {
      const c = { method: String(init?.method), url: String(url), headers: { ...(init?.headers as Record<string, string>) }, body: init?.body };
      calls.push(c);
      return answer(c);
    },
  });
  return { api, calls, unauthorized };
}

describe('bulk calls', () => {
  it('send the right method, path and body', async () => {
    const { api, calls } = recording();
    await listJobs(api, 'c 1', '', 20);
    await listJobs(api, 'c1', 'cur', 20);
    await getJob(api, 'c1', 'j/1');
    await listProblems(api, 'c1', 'j1', '', 50);
    await getPreview(api, 'c1', 'j1', 'p2', 50);
    await listResults(api, 'c1', 'j1', '', 500);
    await startJob(api, 'c1', 'j1', true);
    await cancelJob(api, 'c1', 'j1');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/v1/customers/c%201/bulk?limit=20',
      'GET /api/v1/customers/c1/bulk?cursor=cur&limit=20',
      'GET /api/v1/customers/c1/bulk/j%2F1',
      'GET /api/v1/customers/c1/bulk/j1/problems?limit=50',
      'GET /api/v1/customers/c1/bulk/j1/preview?cursor=p2&limit=50',
      'GET /api/v1/customers/c1/bulk/j1/results?limit=500',
      'POST /api/v1/customers/c1/bulk/j1/start',
      'POST /api/v1/customers/c1/bulk/j1/cancel',
    ]);
    expect(JSON.parse(String(calls[6]?.body))).toEqual({ onlyValid: true });
    expect(calls[7]?.body).toBeUndefined();
  });

  it('uploads a file as the raw body, with its name in the query', async () => {
    const { api, calls } = recording(() => new Response(JSON.stringify({ id: 'j1', status: 'invalid' }), { status: 201 }));
    const file = new Blob(['userPrincipalName\r\na@x.com\r\n']);
    const job = await uploadCsv(api, 'c1', file, 'my users.csv');
    expect(job).toEqual({ id: 'j1', status: 'invalid' });
    expect(calls[0]?.method).toBe('POST');
    expect(calls[0]?.url).toBe('/api/v1/customers/c1/bulk?filename=my+users.csv');
    expect(calls[0]?.body).toBe(file);
    expect(calls[0]?.headers).toMatchObject({ Authorization: 'Bearer t', 'Content-Type': 'text/csv; charset=utf-8', Accept: 'application/json' });
  });

  it('reports a file the server refuses with its message', async () => {
    const { api } = recording(() => new Response('{"error":{"code":"invalid","message":"The file is UTF-16: save it as CSV UTF-8."}}', { status: 400 }));
    await expect(uploadCsv(api, 'c1', new Blob(['x']), 'a.csv')).rejects.toMatchObject({ status: 400, code: 'invalid', message: 'The file is UTF-16: save it as CSV UTF-8.' });
  });

  it('signs out on 401 and says when a response is not JSON', async () => {
    const r = recording(() => new Response('', { status: 401 }));
    await expect(uploadCsv(r.api, 'c1', new Blob(['x']), 'a.csv')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(r.unauthorized).toHaveLength(1);
    const bad = recording(() => new Response('<html>', { status: 200 }));
    await expect(uploadCsv(bad.api, 'c1', new Blob(['x']), 'a.csv')).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('downloads the sample and the results as files, byte for byte', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a]);
    const { api, calls } = recording(() => new Response(bom, { status: 200, headers: { 'Content-Type': 'text/csv' } }));
    const sample = await downloadSample(api, 'c1');
    const results = await downloadResults(api, 'c1', 'j1');
    expect(new Uint8Array(await sample.arrayBuffer())).toEqual(bom);
    expect(new Uint8Array(await results.arrayBuffer())).toEqual(bom);
    expect(calls.map((c) => `${c.method} ${c.url} ${c.headers['Accept']}`)).toEqual([
      'GET /api/v1/customers/c1/bulk/sample.csv text/csv',
      'GET /api/v1/customers/c1/bulk/j1/results.csv text/csv',
    ]);
    expect(calls[0]?.headers['Authorization']).toBe('Bearer t');
  });
});

describe('uploadFile', () => {
  it('sends a small file as the body', async () => {
    const { api, calls } = recording(() => new Response('{"id":"j1"}', { status: 201 }));
    const stages: UploadStage[] = [];
    await uploadFile(api, 'c1', new Blob(['a']), 'a.csv', { onStage: (s) => stages.push(s) });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST /api/v1/customers/c1/bulk?filename=a.csv']);
    expect(stages).toEqual(['sending']);
  });

  it('puts a large file to a presigned URL, then names its key', async () => {
    const upload = { url: 'https://bucket.s3.example/uploads/c1/incoming/k.csv?X-Amz-Signature=s', method: 'PUT', headers: { 'Content-Type': 'text/csv; charset=utf-8' }, key: 'uploads/c1/incoming/k.csv', expiresAt: '' };
    const { api, calls } = recording((c) => new Response(JSON.stringify(c.url.endsWith('/upload-url') ? upload : { id: 'j2' }), { status: 200 }));
    const puts: Call[] = [];
    const s3 = async (url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      puts.push({ method: String(init?.method), url: String(url), headers: { ...(init?.headers as Record<string, string>) }, body: init?.body });
      return new Response('', { status: 200 });
    };
    const stages: UploadStage[] = [];
    const big = new Blob([new Uint8Array(DIRECT_UPLOAD_LIMIT)]);
    const job = await uploadFile(api, 'c1', big, 'big.csv', { fetch: s3, onStage: (s) => stages.push(s) });
    expect(job).toEqual({ id: 'j2' });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST /api/v1/customers/c1/bulk/upload-url', 'POST /api/v1/customers/c1/bulk/from-upload']);
    expect(JSON.parse(String(calls[1]?.body))).toEqual({ key: 'uploads/c1/incoming/k.csv', filename: 'big.csv' });
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ method: 'PUT', url: upload.url, headers: upload.headers, body: big });
    expect(puts[0]?.headers['Authorization']).toBeUndefined();
    expect(stages).toEqual(['signing', 'storing', 'validating']);
  });

  it('says when the bucket refuses the file, and names no key then', async () => {
    const upload = { url: 'https://b/k', method: 'PUT', headers: {}, key: 'k', expiresAt: '' };
    const { api, calls } = recording(() => new Response(JSON.stringify(upload), { status: 200 }));
    const s3 = async (): Promise<Response> => new Response('<Error>AccessDenied</Error>', { status: 403, statusText: 'Forbidden' });
    await expect(uploadFile(api, 'c1', new Blob([new Uint8Array(DIRECT_UPLOAD_LIMIT)]), 'big.csv', { fetch: s3 })).rejects.toMatchObject({
      code: 'upstream',
      message: expect.stringMatching(/refused the file \(HTTP 403 Forbidden\)/),
    });
    expect(calls).toHaveLength(1);
    const down = async (): Promise<Response> => {
      throw new TypeError('Failed to fetch');
    };
    await expect(uploadFile(api, 'c1', new Blob([new Uint8Array(DIRECT_UPLOAD_LIMIT)]), 'big.csv', { fetch: down })).rejects.toMatchObject({ code: 'network' });
  });
});
