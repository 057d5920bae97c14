// The relay's logger: pino, JSON lines. No secrets and no personal data at info level and above:
// credentials are redacted by path (authorization and key headers, tokens, secrets), and every string
// logged at info or above has e-mail addresses, bearer tokens, JWTs and `?code=` keys masked. Request
// lines carry method, path (key masked), status and timing, never bodies or headers.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer|Signature)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const CODE = /([?&](?:code|sig)=)[^&\s"]+/gi;

/** Masks e-mail addresses, bearer tokens, JWTs and key query parameters in a text. */
export function scrub(text: string): string {
  return text.replace(JWT, "[jwt]").replace(BEARER, "$1 [redacted]").replace(CODE, "$1[redacted]").replace(EMAIL, "[email]");
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A copy of a log argument with every string scrubbed (plain objects, arrays and errors; depth-bounded). */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrub(value);
  if (typeof value !== "object" || value === null || depth > 5) return value;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error & Record<string, unknown>;
    for (const [key, item] of Object.entries(value)) copy[key] = scrubValue(item, depth + 1);
    copy.message = scrub(value.message);
    if (value.stack) copy.stack = scrub(value.stack);
    if (value.cause !== undefined) copy.cause = scrubValue(value.cause, depth + 1);
    return copy;
  }
  if (!isPlain(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubValue(item, depth + 1)]));
}

/** A request URL for the log: the path, with key parameters masked. */
export function logUrl(url: string | undefined): string {
  return scrub(url ?? "");
}

export const REDACT_PATHS = [
  "req.headers.authorization", 'req.headers["x-pcr-step-key"]', 'req.headers["x-ms-signature"]', "req.headers.cookie",
  "headers.authorization", 'headers["x-pcr-step-key"]', 'headers["x-ms-signature"]',
  "*.authorization", "*.accessToken", "*.access_token", "*.refreshToken", "*.refresh_token", "*.idToken", "*.id_token",
  "*.clientSecret", "*.client_secret", "*.password", "*.stepKey", "*.tokenCacheKey", "*.authvalue",
  "accessToken", "refreshToken", "clientSecret", "password", "stepKey", "tokenCacheKey",
  "*.email", "*.emailaddress1", "*.username", "email", "emailaddress1", "username",
];

export interface LoggerSettings {
  level: string;
  /** Where lines go; default stdout. Tests pass a stream to read them. */
  stream?: DestinationStream;
  name?: string;
}

export function loggerOptions(settings: LoggerSettings): LoggerOptions {
  return {
    level: settings.level,
    name: settings.name ?? "relay",
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      req: (req: { method?: string; url?: string; routeOptions?: { url?: string }; socket?: { remoteAddress?: string } }) => ({
        method: req.method, url: logUrl(req.url), route: req.routeOptions?.url, remoteAddress: req.socket?.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
    hooks: {
      logMethod(args, method, level) {
        // Debug and trace may show more to whoever turned them on; info and above never show personal data.
        if (level >= 30) return method.apply(this, args.map((arg) => scrubValue(arg)) as Parameters<typeof method>);
        return method.apply(this, args);
      },
    },
  };
}

export function createLogger(settings: LoggerSettings): Logger {
  const options = loggerOptions(settings);
  return settings.stream ? pino(options, settings.stream) : pino(options);
}
