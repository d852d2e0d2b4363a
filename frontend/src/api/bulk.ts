// The mass-configuration calls of the Seatwise API (issue 9): the sample CSV, uploading a file (as the request body,
// or, when large, to a presigned URL of the bucket first), a job's problems, preview and per-row results (paged),
// Start (all rows, or only the valid ones), Cancel, the results as CSV, and the customer's jobs. On top of
// ApiClient.request and ApiClient.send (a body sent as it is, a file downloaded), like provisioning.ts.

import { ApiError, type ApiClient } from './client';
import { queryString } from './provisioning';
import { uploadPath } from '../lib/bulk';
import type { components } from './schema.gen';
import type { ResponseBody } from './types';

// The types are those of the API's OpenAPI document (shared/httpapi/openapi.yaml), generated into schema.gen.ts.
type Schemas = components['schemas'];

/** A job's status: validated or invalid (uploaded), queued or running (applying), completed, cancelled or failed. */
export type BulkStatus = Schemas['BulkStatus'];

/** A licence's totals in a file: seats the rows need (and the valid ones), seats they free, against those free. */
export type BulkSeat = Schemas['BulkSeat'];

/**
 * How far a job has gone: done rows applied (changed, unchanged or staged), failed rows failed, remaining to go out of
 * total; percent with a result; rows per minute and seconds left at that rate (null when unknown or ended).
 */
export type BulkProgress = Schemas['BulkProgress'];

/** An uploaded file and its application as a job, with its progress. */
export type BulkJob = Schemas['BulkJob'];

/** Something wrong in the file: its row as a spreadsheet shows it (0: the file as a whole), column ("" = whole row). */
export type BulkProblem = Schemas['BulkProblem'];

/** What a row changes of its user: licences added and removed, add-ons switched, number, extension, site. */
export type BulkChanges = Schemas['BulkChanges'];

/** One row of the file with what it changes (valid false: it has problems and is not applied). */
export type BulkPreviewRow = Schemas['BulkPreviewRow'];

/** A page of the preview, with the job and its licence totals. */
export type BulkPreview = Schemas['BulkPreview'];

/** One row's result: what was changed (or would have been), and the error. */
export type BulkRowResult = Schemas['BulkRowResult'];

/** A row's outcome. */
export type BulkOutcome = BulkRowResult['outcome'];

/** Where the browser puts a large file itself (method, usually PUT, with the headers), then names key to the API. */
export type UploadUrl = Schemas['BulkUploadUrl'];

/** A page of a list; nextCursor is "" on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string;
}

/** `GET /customers/{id}/bulk`: the customer's jobs, newest first. */
export type BulkJobPage = ResponseBody<'listBulkJobs', 200>;
/** `GET …/bulk/{jobId}/problems`. */
export type BulkProblemPage = ResponseBody<'listBulkProblems', 200>;
/** `GET …/bulk/{jobId}/results`. */
export type BulkResultPage = ResponseBody<'listBulkResults', 200>;

const customerPath = (id: string): string => `/api/v1/customers/${encodeURIComponent(id)}`;
const bulkPath = (id: string): string => `${customerPath(id)}/bulk`;
const jobPath = (id: string, jobId: string): string => `${bulkPath(id)}/${encodeURIComponent(jobId)}`;

/** The Content-Type of an uploaded file. */
export const CSV_TYPE = 'text/csv; charset=utf-8';

async function json<T>(res: Response): Promise<T> {
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw new ApiError(0, 'network', `the response could not be read (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_response', `the server sent a response that is not JSON (HTTP ${res.status})`);
  }
}

async function blob(res: Response): Promise<Blob> {
  try {
    return await res.blob();
  } catch (e) {
    throw new ApiError(0, 'network', `the download could not be read (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** The sample file (UTF-8 with a byte order mark, as Excel wants it). */
export async function downloadSample(api: ApiClient, id: string, signal?: AbortSignal): Promise<Blob> {
  return blob(await api.send('GET', `${bulkPath(id)}/sample.csv`, { accept: 'text/csv', signal }));
}

/** Uploads a file as the request body; it is validated and stored as a job (nothing is applied). */
export async function uploadCsv(api: ApiClient, id: string, file: Blob, filename: string, signal?: AbortSignal): Promise<BulkJob> {
  const res = await api.send('POST', `${bulkPath(id)}${queryString([['filename', filename]])}`, { body: file, contentType: CSV_TYPE, signal });
  return json<BulkJob>(res);
}

/** A URL to put a large file to. */
export function newUploadUrl(api: ApiClient, id: string, signal?: AbortSignal): Promise<UploadUrl> {
  return api.request<UploadUrl>('POST', `${bulkPath(id)}/upload-url`, { signal });
}

/** Puts a file to an upload URL (the bucket: no API token). */
export async function putToUploadUrl(u: UploadUrl, file: Blob, signal?: AbortSignal, f: typeof fetch = globalThis.fetch.bind(globalThis)): Promise<void> {
  let res: Response;
  try {
    res = await f(u.url, { method: u.method || 'PUT', headers: u.headers ?? {}, body: file, signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw new ApiError(0, 'aborted', 'request cancelled');
    throw new ApiError(0, 'network', `the file could not be sent to the storage bucket (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) {
    throw new ApiError(res.status, 'upstream', `the storage bucket refused the file (HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}): try again`);
  }
}

/** Validates a file put to an upload URL and stores it as a job, as uploadCsv does. */
export function uploadFromKey(api: ApiClient, id: string, key: string, filename: string, signal?: AbortSignal): Promise<BulkJob> {
  return api.request<BulkJob>('POST', `${bulkPath(id)}/from-upload`, { body: { key, filename }, signal });
}

/** The steps of uploadFile, for a progress message. */
export type UploadStage = 'sending' | 'signing' | 'storing' | 'validating';

/**
 * Uploads a file the way its size wants (lib/bulk uploadPath): a small one as the request body, a large one to a
 * presigned URL, then validated from there. Returns the job.
 */
export async function uploadFile(
  api: ApiClient,
  id: string,
  file: Blob,
  filename: string,
  opts: { signal?: AbortSignal; onStage?: (s: UploadStage) => void; fetch?: typeof fetch } = {},
): Promise<BulkJob> {
  if (uploadPath(file.size) === 'direct') {
    opts.onStage?.('sending');
    return uploadCsv(api, id, file, filename, opts.signal);
  }
  opts.onStage?.('signing');
  const u = await newUploadUrl(api, id, opts.signal);
  opts.onStage?.('storing');
  await putToUploadUrl(u, file, opts.signal, opts.fetch);
  opts.onStage?.('validating');
  return uploadFromKey(api, id, u.key, filename, opts.signal);
}

/** One page of the customer's jobs, newest first. */
export function listJobs(api: ApiClient, id: string, cursor: string, limit: number, signal?: AbortSignal): Promise<BulkJobPage> {
  return api.request<BulkJobPage>('GET', `${bulkPath(id)}${queryString([['cursor', cursor], ['limit', limit]])}`, { signal });
}

/** One job with its progress. */
export function getJob(api: ApiClient, id: string, jobId: string, signal?: AbortSignal): Promise<BulkJob> {
  return api.request<BulkJob>('GET', jobPath(id, jobId), { signal });
}

/** One page of a job's problems, by row then column (row 0: the file as a whole). */
export function listProblems(api: ApiClient, id: string, jobId: string, cursor: string, limit: number, signal?: AbortSignal): Promise<BulkProblemPage> {
  return api.request<BulkProblemPage>('GET', `${jobPath(id, jobId)}/problems${queryString([['cursor', cursor], ['limit', limit]])}`, { signal });
}

/** One page of the preview: what each row changes, and the file's licence totals. */
export function getPreview(api: ApiClient, id: string, jobId: string, cursor: string, limit: number, signal?: AbortSignal): Promise<BulkPreview> {
  return api.request<BulkPreview>('GET', `${jobPath(id, jobId)}/preview${queryString([['cursor', cursor], ['limit', limit]])}`, { signal });
}

/** One page of per-row results, in file order. */
export function listResults(api: ApiClient, id: string, jobId: string, cursor: string, limit: number, signal?: AbortSignal): Promise<BulkResultPage> {
  return api.request<BulkResultPage>('GET', `${jobPath(id, jobId)}/results${queryString([['cursor', cursor], ['limit', limit]])}`, { signal });
}

/** Every row's result as CSV (UTF-8 with a byte order mark, the file's delimiter). */
export async function downloadResults(api: ApiClient, id: string, jobId: string, signal?: AbortSignal): Promise<Blob> {
  return blob(await api.send('GET', `${jobPath(id, jobId)}/results.csv`, { accept: 'text/csv', signal }));
}

/** Applies a job: every row, or (onlyValid) the rows without problems of a file that has some. */
export function startJob(api: ApiClient, id: string, jobId: string, onlyValid: boolean): Promise<BulkJob> {
  return api.request<BulkJob>('POST', `${jobPath(id, jobId)}/start`, { body: { onlyValid } });
}

/** Stops a job before its next chunk (rows applied stay applied). */
export function cancelJob(api: ApiClient, id: string, jobId: string): Promise<BulkJob> {
  return api.request<BulkJob>('POST', `${jobPath(id, jobId)}/cancel`);
}
