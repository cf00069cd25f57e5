/**
 * The one config schema: types, defaults and validation messages all come from here. Sub-schemas
 * that belong to one module (the SQL Server source, the daemon, logging) are defined beside that
 * module and composed in here, so this stays the single place the whole file is validated.
 */
import { z } from 'zod';
import { daemonSchema, loggingSchema } from '../daemon/config.js';
import { sqlServerSourceSchema } from '../source/sqlserver/config.js';
import { webhooksSchema } from '../webhook/config.js';

/**
 * A secret in the YAML file: plain text (only if the admin chooses), `{env: NAME}` or `{file: PATH}`.
 * The loader resolves references at the paths in SECRET_PATHS before validation, so the schema
 * below sees plain strings.
 */
export const secretRefSchema = z.union([
  z.string().min(1, 'expected a non-empty secret'),
  z.object({ env: z.string().min(1, 'expected the name of an environment variable') }).strict(),
  z.object({ file: z.string().min(1, 'expected a file path') }).strict(),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

export const SECRET_PATHS: readonly (readonly string[])[] = [
  ['connect', 'clientSecret'],
  ['connect', 'proxy', 'password'],
  ['daemon', 'http', 'token'],
  ['source', 'sqlserver', 'auth', 'password'],
  ['webhooks', 'secret'],
  ['webhooks', 'previousSecret'],
];

/** The profile fields Connect owns that ud-bridge can write back into the directory. */
export const PROFILE_FIELDS = ['email', 'firstName', 'lastName'] as const;

const keyPattern = z.string().min(1);
const globList = z.array(z.string().min(1)).default([]);

const programSchema = z
  .object({
    applicationId: z.string().min(1, 'expected the Connect application id (its client_id)'),
    /** The application's role catalog, when known: roles outside it are rejected before any call. */
    roles: z.array(z.string().min(1)).optional(),
  })
  .strict();

const thresholdSchema = z
  .object({
    maxCount: z.number().int().nonnegative(),
    maxPercent: z.number().min(0).max(100),
  })
  .strict();

const thresholdDefault = { maxCount: 50, maxPercent: 20 };

export const configSchema = z
  .object({
    source: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('snapshot'), path: z.string().min(1, 'expected the path of a snapshot JSON file') }).strict(),
        z
          .object({
            type: z.literal('synthetic'),
            seed: z.number().int().default(1),
            users: z.number().int().positive().default(100),
            companies: z.number().int().positive().default(5),
            programs: z.number().int().min(1).max(3).default(3),
            rolesPerUser: z.number().int().positive().default(2),
            groupSize: z.number().int().nonnegative().default(5),
          })
          .strict(),
        z.object({ type: z.literal('sqlserver'), sqlserver: sqlServerSourceSchema }).strict(),
      ])
      .describe('where the directory is read from'),

    connect: z
      .object({
        /** embedded: start the Connect simulator in-process (demo and first steps); remote: a real endpoint. */
        mode: z.enum(['embedded', 'remote']).default('remote'),
        /** The API's root; each operation's path carries its version (/v1.0, /v2.0). A trailing /v1.0 is ignored. */
        apiBaseUrl: z.url().default('https://public-api.connect.visma.com'),
        tokenUrl: z.url().default('https://connect.visma.com/connect/token'),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1, 'expected the client secret, or {env: NAME} / {file: PATH}'),
        clientAuth: z.enum(['form', 'basic']).default('form'),
        /** The parent (customer) tenant under which company tenants are added, by its external id. */
        parentTenantExternalId: z.string().min(1).optional(),
        /** The Visma business unit new tenants carry; Connect requires it to add a tenant (doctor checks it). */
        businessUnitName: z.string().min(1, 'expected a Visma business unit name (ud-bridge doctor lists them)').optional(),
        timeoutMs: z.number().int().positive().default(15_000),
        /**
         * The ceiling of calls in flight. High enough that a rate limit, not this, bounds a run (300
         * requests/s at 50 ms latency needs 15); the adaptive controller finds the limit below it.
         */
        concurrency: z.number().int().min(1).max(64).default(32),
        retry: z
          .object({
            maxAttempts: z.number().int().min(1).max(20).default(5),
            baseDelayMs: z.number().int().nonnegative().default(200),
            maxDelayMs: z.number().int().positive().default(10_000),
          })
          .strict()
          .default({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 }),
        maxRetryAfterMs: z.number().int().positive().default(60_000),
        /** AIMD concurrency between min and connect.concurrency (src/connect/adaptive-concurrency.ts); false: fixed. */
        adaptive: z
          .union([
            z.literal(false),
            z
              .object({
                min: z.number().int().min(1).default(1),
                decreaseFactor: z.number().gt(0).lt(1).default(0.5),
                coolDownMs: z.number().int().nonnegative().default(2_000),
                increaseAfter: z.number().int().min(1).default(20),
                latencyFactor: z.number().gt(1).default(2),
                latencyFloorMs: z.number().int().nonnegative().default(50),
                probeAfterMs: z.number().int().nonnegative().default(5_000),
              })
              .strict(),
          ])
          .default({ min: 1, decreaseFactor: 0.5, coolDownMs: 2_000, increaseAfter: 20, latencyFactor: 2, latencyFloorMs: 50, probeAfterMs: 5_000 }),
        /** Fail fast while Connect is failing (src/connect/circuit-breaker.ts); false: never. */
        circuitBreaker: z
          .union([
            z.literal(false),
            z
              .object({
                windowSize: z.number().int().min(1).default(20),
                failureRatio: z.number().gt(0).max(1).default(0.5),
                minCalls: z.number().int().min(1).default(10),
                consecutiveFailures: z.number().int().min(1).default(5),
                coolDownMs: z.number().int().nonnegative().default(30_000),
              })
              .strict(),
          ])
          .default({ windowSize: 20, failureRatio: 0.5, minCalls: 10, consecutiveFailures: 5, coolDownMs: 30_000 }),
        /**
         * The outbound proxy to Connect (src/connect/network.ts). Without `url`, HTTPS_PROXY /
         * HTTP_PROXY / NO_PROXY from the environment decide, unless `fromEnv` is false.
         */
        proxy: z
          .object({
            url: z.url({ protocol: /^https?$/, error: 'expected the proxy as http://host:port (or https://)' }).optional(),
            username: z.string().min(1).optional(),
            password: z.string().min(1, 'expected the proxy password, or {env: NAME} / {file: PATH}').optional(),
            noProxy: z.array(z.string().min(1)).default([]),
            fromEnv: z.boolean().default(true),
          })
          .strict()
          .refine((p) => (p.username === undefined) === (p.password === undefined), {
            path: ['password'],
            message: 'expected connect.proxy.username and connect.proxy.password together',
          })
          .default({ noProxy: [], fromEnv: true }),
        /** Extra PEM CA certificates trusted beside Node's roots (a TLS-inspecting proxy's CA). */
        caFile: z.string().min(1).optional(),
        embedded: z
          .object({
            seed: z.string().optional(),
            statePath: z.string().default('data/connect-sim.json'),
          })
          .strict()
          .default({ statePath: 'data/connect-sim.json' }),
      })
      .strict(),

    /** VUD program key → Connect application. Only these applications are ever touched. */
    programs: z.record(keyPattern, programSchema).refine((m) => Object.keys(m).length > 0, 'expected at least one program'),

    /** How modules and layout groups become role names; `{name}` is replaced. */
    roleNames: z
      .object({
        module: z.string().includes('{name}').default('module:{name}'),
        layout: z.string().includes('{name}').default('layout:{name}'),
      })
      .strict()
      .default({ module: 'module:{name}', layout: 'layout:{name}' }),

    /** Add user requires a country and a language: these stand in when a VUD user row has none. */
    userDefaults: z
      .object({
        countryCode: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as NO').optional(),
        preferredLanguage: z.string().min(2, 'expected a language code such as en or nb').default('en'),
      })
      .strict()
      .default({ preferredLanguage: 'en' }),

    scope: z
      .object({
        companies: z.object({ include: globList, exclude: globList }).strict().default({ include: [], exclude: [] }),
        users: z.object({ include: globList, exclude: globList }).strict().default({ include: [], exclude: [] }),
      })
      .strict()
      .default({ companies: { include: [], exclude: [] }, users: { include: [], exclude: [] } }),

    policy: z
      .object({
        tenantSoftMatch: z.boolean().default(true),
        programRemoved: z.enum(['suspend', 'delete']).default('suspend'),
        /** Whether VUD owns these user flags; when false ud-bridge leaves them to Connect. */
        ownsTwoStep: z.boolean().default(false),
        ownsEmailChangeAllowed: z.boolean().default(false),
        /** Which Connect-owned profile fields webhooks and full runs write back into the directory. */
        profileFields: z
          .array(z.enum(PROFILE_FIELDS, { error: "expected 'email', 'firstName' or 'lastName'" }))
          .min(1, 'expected at least one of email, firstName, lastName (turn profile writeback off in the source instead)')
          .default([...PROFILE_FIELDS]),
        /** Emails in webhook and profile journal events: masked (j***@example.com) or plain. The log file always masks. */
        journalEmails: z.enum(['masked', 'plain'], { error: "expected 'masked' or 'plain'" }).default('masked'),
        /** The source anomaly guard: pause before planning when a read looks wrong. */
        anomaly: z
          .object({
            /** Pause when users, companies or role assignments drop by more than this against the last good run. */
            maxDropPercent: z.number().min(0).max(100).default(30),
            /** Drops are only judged once the last good run had at least this many rows of the entity. */
            minBaseline: z.number().int().nonnegative().default(10),
          })
          .strict()
          .default({ maxDropPercent: 30, minBaseline: 10 }),
        destructive: z
          .object({
            revoke: thresholdSchema.default(thresholdDefault),
            unlink: thresholdSchema.default(thresholdDefault),
            suspend: thresholdSchema.default(thresholdDefault),
            delete: thresholdSchema.default({ maxCount: 5, maxPercent: 10 }),
            /** Percentages are only checked once this many ops of a kind are planned. */
            percentFloor: z.number().int().nonnegative().default(5),
          })
          .strict()
          .default({
            revoke: thresholdDefault,
            unlink: thresholdDefault,
            suspend: thresholdDefault,
            delete: { maxCount: 5, maxPercent: 10 },
            percentFloor: 5,
          }),
      })
      .strict()
      .default({
        tenantSoftMatch: true,
        programRemoved: 'suspend',
        ownsTwoStep: false,
        ownsEmailChangeAllowed: false,
        profileFields: [...PROFILE_FIELDS],
        journalEmails: 'masked',
        anomaly: { maxDropPercent: 30, minBaseline: 10 },
        destructive: {
          revoke: thresholdDefault,
          unlink: thresholdDefault,
          suspend: thresholdDefault,
          delete: { maxCount: 5, maxPercent: 10 },
          percentFloor: 5,
        },
      }),

    apply: z
      // Ops started at once; as many as calls may be in flight, so the Connect client's limit governs.
      .object({ concurrency: z.number().int().min(1).max(64).default(32) })
      .strict()
      .default({ concurrency: 32 }),

    paths: z
      .object({
        data: z.string().default('data'),
        logs: z.string().default('logs'),
        journal: z.string().default('logs/journal'),
      })
      .strict()
      .default({ data: 'data', logs: 'logs', journal: 'logs/journal' }),

    daemon: daemonSchema,
    webhooks: webhooksSchema,
    logging: loggingSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    // A webhook is only worth receiving if its change can reach the directory.
    if (c.webhooks.enabled && !(c.source.type === 'sqlserver' && c.source.sqlserver.writeback.profiles)) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhooks', 'enabled'],
        message: 'webhooks.enabled: expected a source that writes profiles back (source.type sqlserver with source.sqlserver.writeback.profiles: true)',
      });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
/** The parsed config, secrets still as references. */
export type ParsedConfig = z.infer<typeof configSchema>;
