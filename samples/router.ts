/**
 * Routing: one entry point, two pipelines. Short documents take a one-step pipeline,
 * long ones a three-step pipeline with a parallel pair; `route` picks by input.
 *
 *   npx ts-node samples/router.ts
 */
import { BasePipeline, Pipeline, step } from 'fastroai';

type Input = { document: string };
type Summary = { words: number; summary: string; route: string };

const simple = new Pipeline<unknown, Input, Summary>({
  name: 'simple',
  steps: {
    summarize: step((ctx): Summary => {
      const words = ctx.getInput<string>('document').split(/\s+/).filter(Boolean);
      return { words: words.length, summary: words.slice(0, 5).join(' '), route: 'simple' };
    }),
  },
});

const complex = new Pipeline<unknown, Input, Summary>({
  name: 'complex',
  steps: {
    split: step((ctx) => ctx.getInput<string>('document').split(/(?<=[.!?])\s+/)),
    countWords: step((ctx) => ctx.getDependency<string[]>('split').join(' ').split(/\s+/).length),
    firstSentences: step((ctx) => ctx.getDependency<string[]>('split').slice(0, 2).join(' ')),
    combine: step(
      (ctx): Summary => ({
        words: ctx.getDependency<number>('countWords'),
        summary: ctx.getDependency<string>('firstSentences'),
        route: 'complex',
      }),
    ),
  },
  dependencies: { countWords: ['split'], firstSentences: ['split'], combine: ['countWords', 'firstSentences'] },
});

/** Sends documents of more than `threshold` words to the complex pipeline. */
export class DocumentRouter extends BasePipeline<unknown, Input, Summary> {
  constructor(private readonly threshold = 20) {
    super('document_router');
    this.registerPipeline('simple', simple);
    this.registerPipeline('complex', complex);
  }

  route(input: Input): string {
    return input.document.split(/\s+/).length > this.threshold ? 'complex' : 'simple';
  }
}

if (require.main === module) {
  const router = new DocumentRouter();
  const short = 'Quarterly revenue grew.';
  const long =
    'Quarterly revenue grew by twelve percent. Costs fell in every region except the north. ' +
    'The board approved the new budget. Hiring resumes in the spring, starting with engineering and support.';
  (async () => {
    for (const document of [short, long]) {
      const result = await router.execute({ document });
      console.log(`${result.output?.route}: ${result.output?.words} words — ${result.output?.summary}`);
    }
  })().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
