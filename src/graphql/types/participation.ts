import { castVote, submitArgument, upvoteArgument } from '../../domain/participation.js';
import { Side } from '../../generated/prisma/enums.js';
import { notFound } from '../../errors.js';
import { builder } from '../builder.js';
import { rowId, uuidOrNoRow } from '../ids.js';

const VoteRef = builder.prismaObject('Vote', {
  description: "A user's vote. Only your own votes are visible, so an open case's crowd is not herded.",
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The vote’s uuid.' }),
    side: t.expose('side', { type: Side, description: 'The side voted for.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the vote was cast.' }),
    // By its id rather than the relation: an archived case's votes are not rows of `votes`.
    case: t.prismaField({
      type: 'Case',
      description: 'The case voted on.',
      resolve: (query, vote, _args, ctx) => ctx.db.case.findUniqueOrThrow({ ...query, where: { id: vote.caseId } }),
    }),
  }),
});

builder.prismaNode('Argument', {
  id: { field: 'id' },
  findUnique: (id) => ({ id: uuidOrNoRow(id) }),
  nullable: true,
  description: 'What a user wrote for one side of a case. When the case closes, the three most upvoted (one upvote at least) place and earn points.',
  fields: (t) => ({
    side: t.expose('side', { type: Side, description: 'The side it argues for.' }),
    body: t.exposeString('body', { description: 'The text (20–2,000 characters).' }),
    upvoteCount: t.exposeInt('upvoteCount', { description: 'Upvotes from other users.' }),
    topRank: t.exposeInt('topRank', { nullable: true, description: '1, 2 or 3 once the case closed and the argument placed.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was submitted.' }),
    author: t.relation('user', { description: 'Who wrote it.' }),
    case: t.relation('case', { description: 'The case it argues on.' }),
  }),
});

builder.prismaObjectFields('Case', (t) => ({
  arguments: t.relatedConnection('arguments', {
    cursor: 'id',
    defaultSize: 20,
    maxSize: 100,
    description: 'Most upvoted first; ties by earlier submission.',
    query: () => ({ orderBy: [{ upvoteCount: 'desc' }, { createdAt: 'asc' }, { id: 'asc' }] }),
    ownCursor: async (c: { id: string }, id, ctx) => (await ctx.db.argument.count({ where: { id, caseId: c.id } })) === 1,
  }),
  myVote: t.field({
    type: VoteRef,
    nullable: true,
    description: "The signed-in user's vote on this case.",
    select: (_args, ctx, nestedSelection) => ({
      archivedAt: true,
      votes: nestedSelection({ where: { userId: ctx.viewer?.id ?? uuidOrNoRow('') }, take: 1 }),
    }),
    // An archived case's votes moved to votes_archive (job cleanup): read there, batched.
    resolve: (c, _args, ctx) => c.votes[0] ?? (c.archivedAt && ctx.viewer ? ctx.loaders.archivedVote(ctx.viewer.id).load(c.id) : null),
  }),
  votesA: t.int({
    nullable: true,
    description: 'Votes for side A; null until the case closed, so an open case does not herd the crowd.',
    select: { settlement: { select: { votesA: true } } },
    resolve: (c) => c.settlement?.votesA ?? null,
  }),
  votesB: t.int({
    nullable: true,
    description: 'Votes for side B; null until the case closed.',
    select: { settlement: { select: { votesB: true } } },
    resolve: (c) => c.settlement?.votesB ?? null,
  }),
  crowdSide: t.field({
    type: Side,
    nullable: true,
    description: "The crowd's majority once the case closed (null on a tie). Never used for payouts.",
    select: { settlement: { select: { votesA: true, votesB: true } } },
    resolve: ({ settlement: s }) => (!s || s.votesA === s.votesB ? null : s.votesA > s.votesB ? 'A' : 'B'),
  }),
}));


builder.mutationFields((t) => ({
  castVote: t.prismaField({
    type: 'Vote',
    authScopes: { signedIn: true },
    description: 'One vote per case, while it is open; it cannot be changed.',
    args: {
      caseId: t.arg.id({ required: true, description: 'The case’s global id or uuid.' }),
      side: t.arg({ type: Side, required: true, description: 'The side you vote for.' }),
    },
    resolve: async (_query, _root, args, ctx) => {
      const vote = await castVote(ctx.db, ctx.viewer!.id, caseId(args.caseId), args.side);
      ctx.pubsub.publish('caseUpdated', vote.caseId, { caseId: vote.caseId });
      return vote;
    },
  }),
  submitArgument: t.prismaField({
    type: 'Argument',
    authScopes: { signedIn: true },
    description: 'One argument per case (20–2,000 characters), while it is open.',
    args: {
      caseId: t.arg.id({ required: true, description: 'The case’s global id or uuid.' }),
      side: t.arg({ type: Side, required: true, description: 'The side you argue for.' }),
      body: t.arg.string({ required: true, description: 'Your argument, 20–2,000 characters.' }),
    },
    resolve: async (_query, _root, args, ctx) => {
      const argument = await submitArgument(ctx.db, ctx.viewer!.id, caseId(args.caseId), args.side, args.body);
      ctx.pubsub.publish('caseUpdated', argument.caseId, { caseId: argument.caseId });
      return argument;
    },
  }),
  upvoteArgument: t.prismaField({
    type: 'Argument',
    authScopes: { signedIn: true },
    description: "One upvote per argument, not on your own, while its case is open.",
    args: { argumentId: t.arg.id({ required: true, description: 'The argument’s global id or uuid.' }) },
    resolve: (_query, _root, args, ctx) => {
      const id = rowId('Argument', args.argumentId);
      if (!id) throw notFound('Argument');
      return upvoteArgument(ctx.db, ctx.viewer!.id, id);
    },
  }),
}));

function caseId(id: string): string {
  const row = rowId('Case', id);
  if (!row) throw notFound('Case');
  return row;
}

builder.prismaObject('CaseSettlement', {
  description: 'How a closed case paid out its pool: paid + treasury = pool, exactly.',
  fields: (t) => ({
    pool: t.exposeInt('pool', { description: 'The case’s reward pool, in points.' }),
    winningSide: t.expose('winningSide', { type: Side, description: 'The judge’s side: its voters won.' }),
    winnerCount: t.exposeInt('winnerCount', { description: 'Voters on the winning side.' }),
    participantCount: t.exposeInt('participantCount', { description: 'Users who voted or argued.' }),
    paid: t.exposeInt('paid', { description: 'Points of all the rewards the case gave.' }),
    treasury: t.exposeInt('treasury', { description: 'What could not be paid: remainders, missing winners or arguments, no eligible creator.' }),
  }),
});

builder.prismaObjectFields('Case', (t) => ({
  settlement: t.relation('settlement', { nullable: true, description: 'Null until the case closed.' }),
}));
