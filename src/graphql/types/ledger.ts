import {
  myReceipt,
  settlementByKind,
  voteReceipt,
  voteTimeline,
  type LedgerReceipt,
  type ReceiptEntry,
  type VoteReceipt,
  type VoteTimeline,
} from '../../domain/receipts.js';
import { SettlementOutcome, Side } from '../../generated/prisma/enums.js';
import { builder } from '../builder.js';

builder.enumType(SettlementOutcome, {
  name: 'SettlementOutcome',
  description: 'How a closed case settled.',
  values: {
    SETTLED: { description: 'Paid by the rules.' },
    VOID: { description: 'The sealed ruling disagreed with its commitment: nothing was paid.' },
  },
});

builder.prismaObject('ChainTransaction', {
  description: 'A transaction Verdict sent to the chain.',
  fields: (t) => ({
    hash: t.exposeString('hash', { description: 'The transaction hash, 0x-hex.' }),
    blockNumber: t.string({ nullable: true, description: 'Null until mined.', resolve: (tx) => tx.blockNumber?.toString() ?? null }),
    blockTimestamp: t.expose('blockTimestamp', { type: 'DateTime', nullable: true, description: 'The including block’s timestamp; null until confirmed.' }),
    status: t.string({ description: 'SENT, CONFIRMED or FAILED.', resolve: (tx) => tx.status }),
  }),
});

const LedgerInfo = builder.objectRef<{ root: string; leafCount: number }>('CaseLedger').implement({
  description: 'The Merkle root over every vote and reward line of a closed case, revealed on chain with the ruling.',
  fields: (t) => ({
    root: t.exposeString('root', { description: 'The Merkle root, 0x-hex.' }),
    leafCount: t.exposeInt('leafCount', { description: 'Entries in the ledger: one per vote and one per reward.' }),
  }),
});

const HourRef = builder.objectRef<VoteTimeline['hours'][number]>('VoteHour').implement({
  description: 'The votes of one hour.',
  fields: (t) => ({
    hour: t.expose('hour', { type: 'DateTime', description: 'Start of the hour.' }),
    votesA: t.exposeInt('votesA', { description: 'Votes for side A in that hour.' }),
    votesB: t.exposeInt('votesB', { description: 'Votes for side B in that hour.' }),
  }),
});

const TimelineRef = builder.objectRef<VoteTimeline>('VoteTimeline').implement({
  description: 'When the votes came: anyone can check that none came before the commitment’s block.',
  fields: (t) => ({
    firstVoteAt: t.expose('firstVoteAt', { type: 'DateTime', nullable: true, description: 'The first vote’s time; null without votes.' }),
    lastVoteAt: t.expose('lastVoteAt', { type: 'DateTime', nullable: true, description: 'The last vote’s time; null without votes.' }),
    hours: t.expose('hours', { type: [HourRef], description: 'Each hour with votes, oldest first.' }),
  }),
});

const KindRef = builder.objectRef<{ kind: string; recipients: number; points: number }>('SettlementKind').implement({
  description: 'What a closed case paid for one kind of reward.',
  fields: (t) => ({
    kind: t.exposeString('kind', { description: 'WINNING_VOTE, TOP_ARGUMENT, PARTICIPATION or CREATOR.' }),
    recipients: t.exposeInt('recipients', { description: 'Rewards of this kind.' }),
    points: t.exposeInt('points', { description: 'Their points together.' }),
  }),
});

const ReceiptEntryRef = builder.objectRef<ReceiptEntry>('LedgerEntry').implement({
  description: 'One leaf of a case ledger: [caseKey, entry, userKey, detail, value] (see README, "Verifying a ruling").',
  fields: (t) => ({
    entry: t.exposeString('entry', { description: '`vote` or `reward`.' }),
    detail: t.exposeString('detail', { description: 'The side of a vote, or the kind of a reward.' }),
    value: t.exposeString('value', { description: 'A vote’s time in Unix milliseconds, or a reward’s points.' }),
    leaf: t.exposeString('leaf', { description: 'The leaf hash, keccak256(keccak256(abi.encode(the five values))), 0x-hex.' }),
    proof: t.exposeStringList('proof', { description: 'For VerdictRegistry.verifyLedgerEntry(caseKey, leaf, proof).' }),
  }),
});

const LedgerReceiptRef = builder.objectRef<LedgerReceipt>('LedgerReceipt').implement({
  description: 'Your own entries in a closed case’s ledger, each with its Merkle proof.',
  fields: (t) => ({
    caseKey: t.exposeString('caseKey', { description: 'The case’s key in the registry: its uuid’s 16 bytes, left-padded to 32, 0x-hex.' }),
    userKey: t.exposeString('userKey', { description: 'Your key in this case’s ledger: only you and Verdict can link it to you.' }),
    ledgerRoot: t.exposeString('ledgerRoot', { description: 'The ledger’s Merkle root, as revealed on chain.' }),
    entries: t.expose('entries', { type: [ReceiptEntryRef], description: 'Your vote, if any, and your rewards.' }),
  }),
});

const VoteReceiptRef = builder.objectRef<VoteReceipt>('VoteReceipt').implement({
  description: 'Verdict’s signature over your vote’s ledger leaf: proof that the vote was accepted.',
  fields: (t) => ({
    caseKey: t.exposeString('caseKey', { description: 'The case’s key in the registry, 0x-hex.' }),
    userKey: t.exposeString('userKey', { description: 'Your key in this case’s ledger.' }),
    side: t.expose('side', { type: Side, description: 'The side voted for.' }),
    time: t.exposeString('time', { description: 'Unix milliseconds.' }),
    leaf: t.exposeString('leaf', { description: 'The vote’s ledger leaf hash, 0x-hex: once the case closed, its ledger holds it.' }),
    signature: t.exposeString('signature', { description: 'EIP-191 personal-message signature of the leaf’s 32 bytes.' }),
    signer: t.exposeString('signer', { description: 'Verdict’s chain address.' }),
  }),
});

builder.prismaObjectFields('Vote', (t) => ({
  receipt: t.field({
    type: VoteReceiptRef,
    description: 'Verdict’s signed receipt for the vote.',
    // No select: a vote of an archived case is a row of votes_archive, with the same columns.
    resolve: (vote, _args, ctx) => voteReceipt(ctx.db, ctx.chain, vote),
  }),
}));

builder.prismaObjectFields('CaseSettlement', (t) => ({
  outcome: t.expose('outcome', { type: SettlementOutcome, description: 'Settled by the rules, or void.' }),
  reason: t.exposeString('reason', { nullable: true, description: 'Why a VOID case paid nothing.' }),
  byKind: t.field({
    type: [KindRef],
    select: { caseId: true },
    description: 'What was paid, by kind: paid = the sum of points.',
    resolve: (s, _args, ctx) => settlementByKind(ctx.db, s.caseId),
  }),
}));

const closed = (c: { status: string }) => c.status === 'CLOSED';

builder.prismaObjectFields('Case', (t) => ({
  commitmentTransaction: t.relation('commitTx', { nullable: true, description: 'The transaction that put the commitment on chain.' }),
  revealTransaction: t.relation('revealTx', { nullable: true, description: 'The transaction that revealed the ruling on chain.' }),
  ledger: t.field({
    type: LedgerInfo,
    nullable: true,
    select: { ledger: { select: { root: true, leafCount: true } } },
    description: 'Null until the case closed and its ledger was built.',
    resolve: (c) => c.ledger,
  }),
  voteTimeline: t.field({
    type: TimelineRef,
    nullable: true,
    select: { id: true, status: true },
    description: 'Null until the case closed.',
    resolve: (c, _args, ctx) => (closed(c) ? voteTimeline(ctx.db, c.id) : null),
  }),
  myReceipt: t.field({
    type: LedgerReceiptRef,
    nullable: true,
    select: { id: true, status: true },
    description: 'Your entries in the ledger with their proofs; null when signed out or before the ledger exists.',
    resolve: (c, _args, ctx) => (ctx.viewer && closed(c) ? myReceipt(ctx.db, c.id, ctx.viewer.id) : null),
  }),
}));
