import { trendingTopics, type TrendingTopic } from '../../domain/topics.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { MAX_PAGE } from '../paging.js';

const Topic = builder.objectRef<TrendingTopic>('TrendingTopic').implement({
  description: 'A topic seen in a configured feed in the last 24 hours (job topic-scan).',
  fields: (t) => ({
    title: t.exposeString('title', { description: 'The topic’s title, as the feed gives it.' }),
    url: t.exposeString('url', { description: 'Where it is discussed.' }),
    source: t.exposeString('source', { description: '`reddit:<subreddit>`, or the feed’s host.' }),
    score: t.exposeInt('score', { description: 'At the latest scan (0 for RSS and Atom feeds).' }),
    comments: t.exposeInt('comments', { description: 'At the latest scan (0 for RSS and Atom feeds).' }),
    growth: t.exposeInt('growth', { description: 'Rise of score plus comments over the scans of the last 24 hours.' }),
    firstSeenAt: t.expose('firstSeenAt', { type: 'DateTime', description: 'When a scan first found it.' }),
    usedByCase: t.prismaField({
      type: 'Case',
      nullable: true,
      description: 'The case the judge wrote from it, once public.',
      resolve: (query, topic, _args, ctx) =>
        topic.usedByCaseId ? ctx.db.case.findFirst({ ...query, where: { id: topic.usedByCaseId, status: { in: ['OPEN', 'CLOSED'] } } }) : null,
    }),
  }),
});

const Inspiration = builder.prismaObject('Topic', {
  name: 'Inspiration',
  description: 'The trending topic a case was written from.',
  fields: (t) => ({
    title: t.exposeString('title', { description: 'The topic’s title, as the feed gave it.' }),
    url: t.exposeString('link', { description: 'Where it was discussed.' }),
    source: t.exposeString('source', { description: '`reddit:<subreddit>`, or the feed’s host.' }),
  }),
});

builder.queryFields((t) => ({
  trendingTopics: t.field({
    type: [Topic],
    description: 'Fastest-growing topics of the last 24 hours first; then by score, then newest.',
    args: { first: t.arg.int({ defaultValue: 10, description: 'How many: 1–100.' }) },
    resolve: (_root, args, ctx) => {
      const first = args.first ?? 10;
      if (first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`, 'first');
      return trendingTopics(ctx.db, first, new Date());
    },
  }),
}));

builder.prismaObjectFields('Case', (t) => ({
  inspiredBy: t.relation('inspiredBy', { type: Inspiration, nullable: true, description: 'The trending topic the judge wrote this case from, if any.' }),
}));
