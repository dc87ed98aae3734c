/** Building blocks of the configuration schema (schema.ts and its section files). */
import { Type } from '@sinclair/typebox';

export const Port = (def: number, description: string) => Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

/** A section of the configuration: unknown keys are refused, every key has its default. */
export const Section = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) =>
  Type.Object(properties, { additionalProperties: false, default: {}, description });

/** A speech language choice (asr/language.ts): en, zh, or auto (decided from the first seconds of speech). */
export const LanguageChoiceSchema = (options: { default?: 'en' | 'zh' | 'auto'; description: string }) =>
  Type.Union([Type.Literal('en'), Type.Literal('zh'), Type.Literal('auto')], options);
