// Owns language choice and translation: ui_locales, then Accept-Language, then
// the tenant default; tenant texts override the shipped copy.
import type { Tenant } from '../src/tenants/index.js';
import { en, type MessageKey } from './locales/en.js';
import { nl } from './locales/nl.js';

export type Locale = 'en' | 'nl';
export type { MessageKey };

const catalogs: Record<Locale, Record<MessageKey, string>> = { en, nl };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(locale: Locale, tenant?: Tenant): Translate {
  const overrides = tenant?.texts[locale] ?? {};
  return (key, vars) => {
    const template = overrides[key] ?? catalogs[locale][key] ?? en[key];
    return template.replace(/\{(\w+)\}/g, (m, name: string) => (vars && name in vars ? String(vars[name]) : m));
  };
}

/** Picks the first supported language from ui_locales, Accept-Language, tenant default. */
export function negotiateLocale(tenant: Tenant | undefined, uiLocales?: string, acceptLanguage?: string): Locale {
  const allowed = (tenant?.locales ?? ['en', 'nl']) as Locale[];
  const pick = (tag: string): Locale | undefined => {
    const base = tag.trim().toLowerCase().split('-')[0] as Locale;
    return allowed.includes(base) ? base : undefined;
  };
  for (const tag of (uiLocales ?? '').split(/\s+/).filter(Boolean)) {
    const l = pick(tag);
    if (l) return l;
  }
  if (acceptLanguage) {
    const ranked = acceptLanguage
      .split(',')
      .map((part) => {
        const [tag, ...params] = part.trim().split(';');
        const q = params.find((p) => p.trim().startsWith('q='));
        return { tag: tag ?? '', q: q ? Number(q.trim().slice(2)) || 0 : 1 };
      })
      .filter((x) => x.tag && x.q > 0)
      .sort((a, b) => b.q - a.q);
    for (const { tag } of ranked) {
      const l = pick(tag);
      if (l) return l;
    }
  }
  return (tenant?.defaultLocale as Locale) ?? 'en';
}

export const localeNames: Record<Locale, string> = { en: en['lang.name'], nl: nl['lang.name'] };
