import { z } from 'zod';

// The shapes the judge must produce. The model's answer is parsed with these and never trusted
// as it comes; the JSON schemas below ask the model for the same shapes.

const text = (min: number, max: number) => z.string().trim().min(min).max(max);

export const caseDraftSchema = z.object({
  title: text(5, 140),
  dilemma: text(200, 5000),
  sideA: text(1, 60),
  sideB: text(1, 60),
});

export const rulingSchema = z.object({
  side: z.enum(['A', 'B']),
  reasoning: text(50, 4000),
});

export const writtenCaseSchema = caseDraftSchema
  .extend({ ruling: rulingSchema })
  .refine((c) => c.sideA.toLowerCase() !== c.sideB.toLowerCase(), { message: 'The two sides must differ', path: ['sideB'] });

export type CaseDraft = z.infer<typeof caseDraftSchema>;
export type JudgeRuling = z.infer<typeof rulingSchema>;

const string = (description: string) => ({ type: 'string', description });

const rulingJsonSchema = {
  type: 'object',
  properties: {
    side: { type: 'string', enum: ['A', 'B'], description: 'The side the judge rules for.' },
    reasoning: string('Why, in 50 to 4000 characters.'),
  },
  required: ['side', 'reasoning'],
  additionalProperties: false,
} as const;

/** For response_format json_schema, strict mode: every property required, nothing extra. */
export const JSON_SCHEMAS = {
  writtenCase: {
    name: 'written_case',
    strict: true,
    schema: {
      type: 'object',
      properties: {
        title: string('A short title, at most 140 characters.'),
        dilemma: string('The dilemma, 200 to 1500 characters, concrete and neutral.'),
        sideA: string('Short label of side A, at most 60 characters.'),
        sideB: string('Short label of the opposite side B, at most 60 characters.'),
        ruling: rulingJsonSchema,
      },
      required: ['title', 'dilemma', 'sideA', 'sideB', 'ruling'],
      additionalProperties: false,
    },
  },
  ruling: { name: 'ruling', strict: true, schema: rulingJsonSchema },
} as const;
