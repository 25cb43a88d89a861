import { PUBLIC_CASE_STATUSES, submitCase, type RevealedRuling } from '../../domain/cases.js';
import { CaseSource, CaseStatus, CommitmentStatus, Side } from '../../generated/prisma/enums.js';
import { notFound } from '../../errors.js';
import { builder } from '../builder.js';
import { coalesce } from '../../subscriptions/coalesce.js';
import { coalescedPublicSubscription, publicSubscription } from '../../subscriptions/public.js';
import { toHex } from '../hex.js';
import { rowId, uuidOrNoRow } from '../ids.js';
import { assertOwnCursor, assertPageSize } from '../paging.js';

builder.enumType(Side, {
  name: 'Side',
  description: 'One of a case’s two sides.',
  values: { A: { description: 'Side A (`sideA` names it).' }, B: { description: 'Side B (`sideB` names it).' } },
});
builder.enumType(CaseSource, {
  name: 'CaseSource',
  description: 'Who wrote the dilemma.',
  values: {
    AI: { description: 'The AI judge.' },
    OFFLINE: { description: 'The offline dilemma bank, used without `OPENAI_API_KEY`: no model involved.' },
    USER: { description: 'A user, with createCase; the AI judge rules on it all the same.' },
  },
});
builder.enumType(CaseStatus, {
  name: 'CaseStatus',
  description: 'Where a case is in its life.',
  values: {
    PENDING: { description: 'Not open yet: waiting for the judge’s ruling, or for its commitment to be confirmed on chain.' },
    OPEN: { description: 'Open for votes, arguments and upvotes until `closesAt`.' },
    CLOSED: { description: 'Voting is over: the ruling is revealed and the pool settled.' },
  },
});
builder.enumType(CommitmentStatus, {
  name: 'CommitmentStatus',
  description: 'Where the commitment to a case’s sealed ruling stands on chain.',
  values: {
    UNSENT: { description: 'Sealed, not on chain yet.' },
    SENT: { description: 'The commitment transaction is out, waiting for its confirmations (the case stays PENDING).' },
    VERIFIED: {
      description:
        'On chain and equal to the stored commitment and to the one recomputed from the sealed ruling (checked when the case opens and again by verdict-check).',
    },
    MISMATCH: { description: 'They disagree: the case is never paid out and closes VOID.' },
  },
});

const Ruling = builder.objectRef<RevealedRuling>('Ruling').implement({
  description: 'The AI ruling, published when the case closes.',
  fields: (t) => ({
    side: t.expose('side', { type: Side, description: 'The side the judge ruled for: its voters win.' }),
    reasoning: t.exposeString('reasoning', { description: 'Why, in the judge’s words.' }),
    salt: t.string({ description: '32-byte salt, 0x-hex.', resolve: (r) => toHex(r.salt) }),
    judge: t.exposeString('judge', { description: 'Who ruled: the AI model’s name, or `offline-bank`.' }),
  }),
});

export const CaseNode = builder.prismaNode('Case', {
  id: { field: 'id' },
  findUnique: (id) => ({ id: uuidOrNoRow(id) }),
  nullable: true,
  description: 'A moral dilemma with two sides, ruled on in secret by the AI judge, then open for votes and arguments.',
  fields: (t) => ({
    title: t.exposeString('title', { description: 'A short title (5–140 characters).' }),
    dilemma: t.exposeString('dilemma', { description: 'The dilemma itself (200–5,000 characters).' }),
    sideA: t.exposeString('sideALabel', { description: 'Label of side A.' }),
    sideB: t.exposeString('sideBLabel', { description: 'Label of side B.' }),
    source: t.expose('source', { type: CaseSource, description: 'Who wrote the dilemma.' }),
    status: t.expose('status', { type: CaseStatus, description: 'Pending, open for votes, or closed.' }),
    opensAt: t.expose('opensAt', {
      type: 'DateTime',
      description: 'When voting opened; while PENDING, when the case was written (it is set again when the case opens).',
    }),
    closesAt: t.expose('closesAt', { type: 'DateTime', description: 'When voting ends: the case’s duration (24 hours by default) after opensAt.' }),
    closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true, description: 'When the case was closed and settled; null before.' }),
    rewardPool: t.exposeInt('rewardPool', { description: 'Points split when the case closes (see `settlement`).' }),
    commitment: t.exposeString('commitment', {
      nullable: true,
      description: 'SHA-256 of the sealed ruling (see README, "Verifying a ruling"); null until the judge has ruled.',
    }),
    commitmentStatus: t.expose('commitmentStatus', { type: CommitmentStatus, description: 'Where the commitment stands on chain.' }),
    creator: t.relation('creator', { nullable: true, description: 'The user who submitted the case; null for the judge’s own.' }),
    voteCount: t.int({
      description: 'Votes cast on the case (its archived votes included).',
      select: { archivedVotes: true, _count: { select: { votes: true } } },
      resolve: (c) => c._count.votes + c.archivedVotes,
    }),
    argumentCount: t.relationCount('arguments', { description: 'Arguments submitted on the case.' }),
    ruling: t.field({
      type: Ruling,
      nullable: true,
      description: 'Null until the case is CLOSED.',
      select: { status: true },
      resolve: (c, _args, ctx) => (c.status === 'CLOSED' ? ctx.loaders.revealedRuling.load(c.id) : null),
    }),
  }),
});

builder.queryFields((t) => ({
  cases: t.prismaConnection({
    type: 'Case',
    cursor: 'id',
    defaultSize: 20,
    maxSize: 100,
    description: 'Open and closed cases, newest first.',
    args: { status: t.arg({ type: CaseStatus, required: false, description: 'Only cases in this status; OPEN and CLOSED ones when left out.' }) },
    resolve: async (query, _root, args, ctx) => {
      assertPageSize(args);
      const where = { status: args.status ?? { in: [...PUBLIC_CASE_STATUSES] } };
      await assertOwnCursor(query, args.before ? 'before' : 'after', async (id) => (await ctx.db.case.count({ where: { ...where, id } })) === 1);
      return ctx.db.case.findMany({
        ...query,
        where,
        orderBy: [{ opensAt: 'desc' }, { id: 'desc' }],
      });
    },
  }),
  case: t.prismaField({
    type: 'Case',
    nullable: true,
    description: 'A case by id; null when there is none.',
    args: { id: t.arg.id({ required: true, description: 'The global id of the case, or its uuid.' }) },
    resolve: (query, _root, args, ctx) => {
      const id = rowId('Case', args.id);
      return id ? ctx.db.case.findUnique({ ...query, where: { id } }) : null;
    },
  }),
}));

/** caseUpdated sends a subscriber at most one event per this interval (every vote publishes one). */
export const CASE_UPDATE_INTERVAL_MS = 1000;

builder.subscriptionFields((t) => ({
  caseUpdated: t.prismaField({
    type: 'Case',
    description:
      'One open or closed case as it changes: its vote and argument counts as people take part, and its ruling once it closes. ' +
      'At most one event a second; a burst of votes comes as one event with the latest counts. When the case closes, one last event.',
    args: { id: t.arg.id({ required: true, description: 'The global id of the case, or its uuid.' }) },
    extensions: coalescedPublicSubscription(CASE_UPDATE_INTERVAL_MS),
    subscribe: async (_root, args, ctx) => {
      const id = rowId('Case', args.id);
      if (!id || (await ctx.db.case.count({ where: { id, status: { in: [...PUBLIC_CASE_STATUSES] } } })) === 0) throw notFound('Case');
      return coalesce(ctx.pubsub.subscribe('caseUpdated', id), CASE_UPDATE_INTERVAL_MS);
    },
    // Read when the event goes out, not when the vote came: the counts are the latest.
    resolve: (query, event: { caseId: string }, _args, ctx) =>
      ctx.db.case.findUniqueOrThrow({ ...query, where: { id: event.caseId } }),
  }),
  caseClosed: t.prismaField({
    type: 'Case',
    description: 'A case closed: its ruling is revealed and its rewards are settled.',
    extensions: publicSubscription,
    subscribe: (_root, _args, ctx) => ctx.pubsub.subscribe('caseClosed'),
    resolve: (query, event: { caseId: string }, _args, ctx) =>
      ctx.db.case.findUniqueOrThrow({ ...query, where: { id: event.caseId } }),
  }),
  caseOpened: t.prismaField({
    type: 'Case',
    description: 'A case opened for voting.',
    extensions: publicSubscription,
    subscribe: (_root, _args, ctx) => ctx.pubsub.subscribe('caseOpened'),
    resolve: (query, event: { caseId: string }, _args, ctx) =>
      ctx.db.case.findUniqueOrThrow({ ...query, where: { id: event.caseId } }),
  }),
}));

const CaseInput = builder.inputType('CreateCaseInput', {
  description: 'A dilemma and its two sides.',
  fields: (t) => ({
    title: t.string({ required: true, description: '5–140 characters.' }),
    dilemma: t.string({ required: true, description: '200–5,000 characters.' }),
    sideA: t.string({ required: true, description: 'Short label of side A (1–60 characters).' }),
    sideB: t.string({ required: true, description: 'Short label of side B (1–60 characters).' }),
  }),
});

builder.mutationFields((t) => ({
  createCase: t.prismaField({
    type: 'Case',
    authScopes: { signedIn: true },
    description: 'Submit a dilemma. It stays PENDING until the AI judge has ruled on it and sealed the ruling.',
    args: { input: t.arg({ type: CaseInput, required: true, description: 'The case to submit.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const submitted = await submitCase(ctx.db, ctx.viewer!.id, input, {
        rewardPool: ctx.config.CASE_REWARD_POOL,
        durationHours: ctx.config.CASE_DURATION_HOURS,
        submissionsPerDay: ctx.config.CASE_SUBMISSIONS_PER_DAY,
      });
      // Read back with what the selection needs (counts, relations), as every Prisma field does,
      // before the judge starts on it: the answer is the case as submitted.
      const stored = await ctx.db.case.findUniqueOrThrow({ ...query, where: { id: submitted.id } });
      ctx.sealer.ruleSoon(submitted.id);
      return stored;
    },
  }),
}));
