// Owns the shape of tenants/<slug>/tenant.json: every field, its default and its limits.
import { z } from 'zod';

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1a2b3c');
const assetFile = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, 'must be a file name inside the tenant folder')
  .refine((v) => !v.split('/').includes('..'), 'must stay inside the tenant folder');
export const supportedLocales = ['en', 'nl'] as const;
const locale = z.enum(supportedLocales);

export const otpPolicySchema = z
  .object({
    length: z.number().int().min(6).max(10).default(6),
    ttlSeconds: z.number().int().min(60).max(86400).default(1800),
    maxAttempts: z.number().int().min(1).max(10).default(5),
    resendCooldownSeconds: z.number().int().min(0).max(3600).default(30),
    maxSendsPerHour: z.number().int().min(1).max(100).default(10),
    maxFailuresPerEmail: z.number().int().min(5).max(1000).default(100),
    unknownEmail: z.enum(['silent', 'notify']).default('silent'),
  })
  .strict();

export const userTypeSchema = z
  .object({
    label: z.string().min(1).optional(),
    sensitive: z.boolean().default(false),
    mfa: z.enum(['none', 'totp']).default('none'),
    password: z.boolean().default(false),
  })
  .strict();

export const tenantSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).max(100),
    branding: z
      .object({
        logo: assetFile.optional(),
        favicon: assetFile.optional(),
        primaryColor: color.default('#2f5bea'),
        backgroundColor: color.default('#f4f6fb'),
        textColor: color.default('#1c2333'),
        backgroundImage: assetFile.optional(),
        css: assetFile.optional(),
      })
      .strict()
      .default({ primaryColor: '#2f5bea', backgroundColor: '#f4f6fb', textColor: '#1c2333' }),
    support: z
      .object({ email: z.email().optional(), url: z.url().optional() })
      .strict()
      .default({}),
    locales: z.array(locale).min(1).default(['en', 'nl']),
    defaultLocale: locale.default('en'),
    timeZone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone such as Europe/Amsterdam')
      .default('UTC'),
    texts: z.partialRecord(locale, z.record(z.string(), z.string())).default({}),
    email: z
      .object({
        fromName: z.string().min(1).max(100).optional(),
        htmlTemplate: assetFile.optional(),
        textTemplate: assetFile.optional(),
      })
      .strict()
      .default({}),
    otp: otpPolicySchema.default(otpPolicySchema.parse({})),
    session: z
      .object({
        idleTimeoutSeconds: z.number().int().min(60).max(30 * 86400).default(8 * 3600),
        absoluteTimeoutSeconds: z.number().int().min(300).max(90 * 86400).default(14 * 86400),
      })
      .strict()
      .default({ idleTimeoutSeconds: 8 * 3600, absoluteTimeoutSeconds: 14 * 86400 }),
    userTypes: z
      .record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), userTypeSchema)
      .default({ standard: userTypeSchema.parse({}) }),
    demo: z.boolean().default(false),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!t.locales.includes(t.defaultLocale)) {
      ctx.addIssue({ code: 'custom', path: ['defaultLocale'], message: 'must be one of locales' });
    }
    if (!('standard' in t.userTypes)) {
      ctx.addIssue({ code: 'custom', path: ['userTypes'], message: 'must define the "standard" user type' });
    }
  });

export type TenantFile = z.infer<typeof tenantSchema>;
export type OtpPolicy = z.infer<typeof otpPolicySchema>;
export type UserType = z.infer<typeof userTypeSchema>;
