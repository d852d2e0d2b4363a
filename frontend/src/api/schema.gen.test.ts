import { describe, expect, it } from 'vitest';
import { readGenerated, renderSchema } from '../../scripts/gen-api.mjs';

describe('schema.gen.ts', () => {
  it('is what openapi-typescript generates from shared/httpapi/openapi.yaml now', async () => {
    const [want, got] = await Promise.all([renderSchema(), readGenerated()]);
    expect(got, 'src/api/schema.gen.ts is stale: run npm run gen:api').toBe(want);
  }, 60_000);
});
