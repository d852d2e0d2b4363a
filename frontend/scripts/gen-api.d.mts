// Types of scripts/gen-api.mjs for src/api/schema.gen.test.ts.

/** The OpenAPI document (the Go API's shared/httpapi/openapi.yaml). */
export declare const SPEC_URL: URL;
/** The generated file, src/api/schema.gen.ts. */
export declare const OUTPUT_URL: URL;
/** The first lines of the generated file. */
export declare const HEADER: string;
/** Renders src/api/schema.gen.ts from the OpenAPI document, in memory. */
export declare function renderSchema(): Promise<string>;
/** Reads the committed src/api/schema.gen.ts. */
export declare function readGenerated(): Promise<string>;
