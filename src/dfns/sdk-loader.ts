import Module, { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { createSeamFetch } from './transport.js';

type SdkModule = typeof import('@dfns/sdk');

/** `@dfns/sdk/utils/fetch.js` (not in the package's typed entry points). */
interface FetchUtils {
  simpleFetch(resource: string, options: { method: 'GET'; apiOptions: { baseUrl?: string; orgId?: string; authToken?: string } }): Promise<{ text(): Promise<string>; headers: { get(name: string): string | null } }>;
}

export interface LoadedSdk {
  sdk: SdkModule;
  /** The SDK's own request chain (URL, auth header, errors), for answers its generated client cannot read (CSV). */
  fetch: FetchUtils;
}

/**
 * Loads a private instance of `@dfns/sdk` whose `cross-fetch` is the
 * transport seam's wrapped fetch.
 *
 * Why not patch `require('cross-fetch').fetch` in place: the SDK does not look fetch up per call.
 * `utils/fetch.js` and `utils/userActionFetch.js` build their middleware chains at load time,
 * `errorHandler(cross_fetch_1.fetch)`, capturing the function. Patching works only if it happens
 * before the SDK is first required anywhere in the process, which no import order can promise
 * (a test or another module importing `@dfns/sdk` first would silently bypass timeouts, limits
 * and retries). Instead, Node's documented `require.cache` ("adding or replacing entries is also
 * possible") is used for the time of one synchronous load: the SDK's modules are taken out of the
 * cache, `cross-fetch` (resolved from the SDK's own location, so it is the instance the SDK would
 * use) is replaced by a module exporting the wrapper, the SDK is required, and the cache is put
 * back exactly as it was. Our instance keeps the wrapper; every other user of `@dfns/sdk` in the
 * process keeps the untouched original, whatever the load order. The SDK itself is unchanged.
 * If a future SDK stops using `cross-fetch`, `runInTransport` notices the missing requests and fails.
 */
let loaded: LoadedSdk | undefined;

export function loadSdk(): LoadedSdk {
  loaded ??= loadPrivateSdk();
  return loaded;
}

function loadPrivateSdk(): LoadedSdk {
  const require = createRequire(import.meta.url);
  const sdkEntry = require.resolve('@dfns/sdk');
  const sdkRequire = createRequire(sdkEntry);
  const crossFetchPath = sdkRequire.resolve('cross-fetch');
  const crossFetch = sdkRequire('cross-fetch') as {
    fetch: Parameters<typeof createSeamFetch>[0];
    Response: Parameters<typeof createSeamFetch>[1];
    Headers: unknown;
    Request: unknown;
  };

  const seamFetch = createSeamFetch(crossFetch.fetch, crossFetch.Response);
  const wrappedExports = Object.assign(
    function fetch(this: unknown, url: unknown, init?: Record<string, unknown>) {
      return seamFetch.call(this, url, init);
    },
    { Headers: crossFetch.Headers, Request: crossFetch.Request, Response: crossFetch.Response, ponyfill: true },
  );
  Object.assign(wrappedExports, { fetch: wrappedExports, default: wrappedExports });

  const cache = require.cache;
  const privateDirs = [packageDir(sdkEntry)];
  const isPrivate = (key: string) => privateDirs.some((dir) => key.startsWith(dir));
  const saved = new Map<string, NodeJS.Module | undefined>();
  for (const key of Object.keys(cache)) if (isPrivate(key)) saved.set(key, cache[key]);
  saved.set(crossFetchPath, cache[crossFetchPath]);

  try {
    for (const key of saved.keys()) delete cache[key];
    const fake = new Module(crossFetchPath);
    fake.filename = crossFetchPath;
    fake.loaded = true;
    fake.exports = wrappedExports;
    cache[crossFetchPath] = fake as unknown as NodeJS.Module;
    const sdk = require(sdkEntry) as SdkModule;
    const fetch = sdkRequire('./utils/fetch.js') as FetchUtils;
    return { sdk, fetch };
  } finally {
    // Put the cache back: remove our private instance, restore whatever was there before.
    for (const key of Object.keys(cache)) if (isPrivate(key)) delete cache[key];
    delete cache[crossFetchPath];
    for (const [key, mod] of saved) if (mod !== undefined) cache[key] = mod;
  }
}

/** `/…/node_modules/@dfns/sdk/` from `/…/node_modules/@dfns/sdk/index.js`. */
function packageDir(entry: string): string {
  return dirname(entry) + sep;
}
