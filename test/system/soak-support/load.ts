import { randomBytes, randomUUID } from 'node:crypto';
import { Wallet } from 'ethers';
import { call, uuidOf, type Endpoint, type Stats } from './client.js';

// The soak's mixed load: virtual users on worker loops, each request sent to the next server in
// turn. Workers own disjoint users, so a user never has two operations in flight and every
// refusal is either deliberate (asked for, with its code) or explained by a race the worker can
// check (the case closed while the request was on its way: only once its closing time passed).

const Q = {
  openCases: `query OpenCases($first: Int!) { cases(status: OPEN, first: $first) { edges { node {
    id title status closesAt voteCount argumentCount myVote { side }
    arguments(first: 10) { edges { node { id upvoteCount author { handle } } } } } } } }`,
  closedCases: `query ClosedCases { cases(status: CLOSED, first: 5) { edges { node {
    id status votesA votesB crowdSide ruling { side } settlement { pool paid treasury outcome byKind { points } } } } } }`,
  board: `query Board($period: LeaderboardPeriod!) { leaderboard(period: $period, first: 20) { rank handle points } }`,
  node: `query Node($id: ID!) { node(id: $id) { __typename id ... on Case { title status } ... on User { handle } ... on Argument { body upvoteCount } } }`,
  oneCase: `query OneCase($id: ID!) { case(id: $id) { id status closesAt voteCount argumentCount
    arguments(first: 10) { edges { node { id upvoteCount author { handle } } } } } }`,
  me: `query Me { me { handle totalPoints rank(period: ALL_TIME) badges { badge { key } } rewards(first: 5) { edges { node { kind amount status } } } } }`,
  verify: `query Verify($id: ID!) { verifyVerdict(caseId: $id) { revealed matches disagreements } }`,
  jobs: `query Jobs { jobs { name running schedule lastRun { status } } }`,
  signUp: `mutation SignUp($input: CredentialsInput!) { signUp(input: $input) { token user { id handle role } } }`,
  signIn: `mutation SignIn($input: CredentialsInput!) { signIn(input: $input) { token user { id handle role } } }`,
  vote: `mutation Vote($caseId: ID!, $side: Side!) { castVote(caseId: $caseId, side: $side) { id side receipt { signer signature leaf } } }`,
  argue: `mutation Argue($caseId: ID!, $side: Side!, $body: String!) { submitArgument(caseId: $caseId, side: $side, body: $body) { id } }`,
  upvote: `mutation Upvote($id: ID!) { upvoteArgument(argumentId: $id) { id upvoteCount } }`,
  runJob: `mutation Run($name: JobName!) { runJob(name: $name) { id job status } }`,
  challenge: `mutation Challenge($address: String!) { walletChallenge(address: $address) { message } }`,
  connect: `mutation Connect($message: String!, $signature: String!) { connectWallet(message: $message, signature: $signature) { walletAddress } }`,
  tooManyAliases: `query { ${Array.from({ length: 20 }, (_, i) => `a${i}: chain { chainId }`).join(' ')} }`,
};

export interface SimUser {
  handle: string;
  password: string;
  token: string;
  gid: string;
  wallet?: Wallet;
  voted: Set<string>;
  argued: Set<string>;
  upvoted: Set<string>;
  /** Mutations counted by the server's fixed one-minute window (REDIS rate limit), to stay under it. */
  window: { start: number; hits: number };
}

interface KnownCase {
  gid: string;
  closesAt: number;
  /** Argument global id → author handle. */
  args: Map<string, string>;
}

export interface LoadOptions {
  servers: Endpoint[];
  stats: Stats;
  /** The chain key: every vote receipt must be signed by it, whichever server answered. */
  signer: string;
  mutationLimit: number;
  onProblem?: (what: string) => void;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const side = () => (Math.random() < 0.5 ? 'A' : 'B');
const PASSWORD = 'soak passphrase 1234';

export class Load {
  readonly users: SimUser[] = [];
  readonly open = new Map<string, KnownCase>();
  readonly closed = new Set<string>();
  readonly userGids = new Set<string>();
  private turn = 0;
  private readonly problem: (what: string) => void;

  constructor(private readonly options: LoadOptions) {
    this.problem = options.onProblem ?? ((what) => options.stats.problem(what));
  }

  /** The next server in turn: requests spread evenly over all of them. */
  server(): Endpoint {
    return this.options.servers[this.turn++ % this.options.servers.length]!;
  }

  async signUp(handle: string, kind = 'signUp'): Promise<SimUser | null> {
    const r = await call<{ signUp: { token: string; user: { id: string; handle: string } } }>(this.options.stats, {
      kind,
      server: this.server(),
      query: Q.signUp,
      variables: { input: { handle, password: PASSWORD } },
    });
    if (!r.data?.signUp) return null;
    const user: SimUser = {
      handle,
      password: PASSWORD,
      token: r.data.signUp.token,
      gid: r.data.signUp.user.id,
      voted: new Set(),
      argued: new Set(),
      upvoted: new Set(),
      window: { start: 0, hits: 0 },
    };
    this.userGids.add(user.gid);
    return user;
  }

  /** walletChallenge on one server, connectWallet on the next: the nonce lives in the shared database. */
  async connectWallet(user: SimUser) {
    const wallet = Wallet.createRandom();
    const challenge = await call<{ walletChallenge: { message: string } }>(this.options.stats, {
      kind: 'walletChallenge',
      server: this.server(),
      query: Q.challenge,
      variables: { address: wallet.address },
      token: user.token,
    });
    if (!challenge.data?.walletChallenge) return;
    this.hit(user, 2);
    const signature = await wallet.signMessage(challenge.data.walletChallenge.message);
    const connected = await call<{ connectWallet: { walletAddress: string } }>(this.options.stats, {
      kind: 'connectWallet',
      server: this.server(),
      query: Q.connect,
      variables: { message: challenge.data.walletChallenge.message, signature },
      token: user.token,
    });
    if (connected.data?.connectWallet?.walletAddress === wallet.address) user.wallet = new Wallet(wallet.privateKey);
  }

  /** Counts `n` mutations in the user's current one-minute window; false when that would near the limit. */
  private hit(user: SimUser, n = 1): boolean {
    const start = Math.floor(Date.now() / 60_000) * 60_000;
    if (user.window.start !== start) user.window = { start, hits: 0 };
    if (user.window.hits + n > this.options.mutationLimit - 5) return false;
    user.window.hits += n;
    return true;
  }

  private remember(nodes: { id: string; status: string; closesAt: string; arguments?: { edges: { node: { id: string; author: { handle: string } } }[] } }[]) {
    for (const n of nodes) {
      if (n.status === 'OPEN') {
        const known = this.open.get(n.id) ?? { gid: n.id, closesAt: Date.parse(n.closesAt), args: new Map() };
        for (const e of n.arguments?.edges ?? []) known.args.set(e.node.id, e.node.author.handle);
        this.open.set(n.id, known);
      } else {
        this.open.delete(n.id);
        if (n.status === 'CLOSED') this.closed.add(n.id);
      }
    }
    for (const [gid, c] of this.open) if (c.closesAt < Date.now() - 60_000) this.open.delete(gid);
  }

  /** An open case with at least `marginMs` left. */
  private openCase(marginMs: number, filter: (c: KnownCase) => boolean = () => true): KnownCase | undefined {
    const now = Date.now();
    const candidates = [...this.open.values()].filter((c) => c.closesAt - now > marginMs && filter(c));
    return candidates.length ? pick(candidates) : undefined;
  }

  /** CASE_CLOSED is explained only once the case's closing time has passed (the database's clock is this machine's). */
  private closedAfter(c: KnownCase) {
    return (code: string) => code === 'CASE_CLOSED' && Date.now() >= c.closesAt;
  }

  // ---- reads ----

  async readOpenCases(user?: SimUser) {
    const r = await call<{ cases: { edges: { node: Parameters<Load['remember']>[0][number] & { voteCount: number } }[] } }>(this.options.stats, {
      kind: 'read:cases',
      server: this.server(),
      query: Q.openCases,
      variables: { first: 10 },
      token: user?.token,
    });
    if (r.data?.cases) this.remember(r.data.cases.edges.map((e) => e.node));
  }

  async readClosedCases() {
    type Closed = { id: string; status: string; settlement: { pool: number; paid: number; treasury: number; byKind: { points: number }[] } | null };
    const r = await call<{ cases: { edges: { node: Closed }[] } }>(this.options.stats, { kind: 'read:closedCases', server: this.server(), query: Q.closedCases });
    for (const { node } of r.data?.cases.edges ?? []) {
      this.closed.add(node.id);
      this.open.delete(node.id);
      // Closure writes the status and the settlement in one transaction: never one without the other.
      const s = node.settlement;
      if (!s) this.problem(`closed case ${node.id} without settlement`);
      else if (s.paid + s.treasury !== s.pool || s.byKind.reduce((a, k) => a + k.points, 0) !== s.paid) {
        this.problem(`settlement of ${node.id} does not add up: ${JSON.stringify(s)}`);
      }
    }
  }

  async readBoard() {
    const period = pick(['ALL_TIME', 'WEEKLY', 'DAILY']);
    const r = await call<{ leaderboard: { rank: number; points: number }[] }>(this.options.stats, {
      kind: 'read:leaderboard',
      server: this.server(),
      query: Q.board,
      variables: { period },
    });
    const board = r.data?.leaderboard ?? [];
    for (let i = 1; i < board.length; i++) {
      if (board[i]!.points > board[i - 1]!.points || board[i]!.rank < board[i - 1]!.rank) {
        this.problem(`leaderboard ${period} out of order: ${JSON.stringify(board)}`);
        break;
      }
    }
  }

  async readNode() {
    const ids = [...this.open.keys(), ...this.closed, ...this.userGids, ...[...this.open.values()].flatMap((c) => [...c.args.keys()])];
    if (ids.length === 0) return this.readOpenCases();
    const id = pick(ids);
    const r = await call<{ node: { id: string } | null }>(this.options.stats, { kind: 'read:node', server: this.server(), query: Q.node, variables: { id } });
    if (r.ok && r.data?.node?.id !== id) this.problem(`node(${id}) answered ${JSON.stringify(r.data)}`);
  }

  async readCase(user: SimUser) {
    const ids = [...this.open.keys(), ...this.closed];
    if (ids.length === 0) return this.readOpenCases(user);
    const r = await call<{ case: Parameters<Load['remember']>[0][number] | null }>(this.options.stats, {
      kind: 'read:case',
      server: this.server(),
      query: Q.oneCase,
      variables: { id: pick(ids) },
      token: user.token,
    });
    if (r.data?.case) this.remember([r.data.case]);
  }

  async readMe(user: SimUser) {
    const r = await call<{ me: { handle: string } | null }>(this.options.stats, { kind: 'read:me', server: this.server(), query: Q.me, token: user.token });
    if (r.ok && r.data?.me?.handle !== user.handle) this.problem(`me as ${user.handle} answered ${JSON.stringify(r.data)}`);
  }

  async readVerify() {
    if (this.closed.size === 0) return this.readClosedCases();
    const id = pick([...this.closed]);
    const r = await call<{ verifyVerdict: { revealed: boolean; matches: boolean | null; disagreements: string[] } }>(this.options.stats, {
      kind: 'read:verifyVerdict',
      server: this.server(),
      query: Q.verify,
      variables: { id },
    });
    const v = r.data?.verifyVerdict;
    if (v && (v.disagreements.length > 0 || v.matches === false || !v.revealed)) this.problem(`verifyVerdict(${id}): ${JSON.stringify(v)}`);
  }

  // ---- writes ----

  async signIn(user: SimUser) {
    const r = await call<{ signIn: { token: string; user: { id: string } } }>(this.options.stats, {
      kind: 'signIn',
      server: this.server(),
      query: Q.signIn,
      variables: { input: { handle: user.handle, password: user.password } },
    });
    if (r.data?.signIn) {
      if (r.data.signIn.user.id !== user.gid) this.problem(`signIn(${user.handle}) answered another user`);
      user.token = r.data.signIn.token; // a token from one server, used on the others from now on
    }
  }

  async vote(user: SimUser) {
    const c = this.openCase(2_000, (k) => !user.voted.has(k.gid));
    if (!c || !this.hit(user)) return this.readOpenCases(user);
    user.voted.add(c.gid);
    const r = await call<{ castVote: { receipt: { signer: string } } }>(this.options.stats, {
      kind: 'castVote',
      server: this.server(),
      query: Q.vote,
      variables: { caseId: c.gid, side: side() },
      token: user.token,
      allow: this.closedAfter(c),
    });
    if (r.data?.castVote && r.data.castVote.receipt.signer !== this.options.signer) {
      this.problem(`vote receipt signed by ${r.data.castVote.receipt.signer}, not the chain key ${this.options.signer}`);
    }
  }

  async argue(user: SimUser) {
    const c = this.openCase(2_000, (k) => !user.argued.has(k.gid));
    if (!c || !this.hit(user)) return this.readOpenCases(user);
    user.argued.add(c.gid);
    const body = `Soak argument ${randomBytes(6).toString('hex')}: ${'because it is fair to everyone involved. '.repeat(1 + Math.floor(Math.random() * 3))}`;
    const r = await call<{ submitArgument: { id: string } }>(this.options.stats, {
      kind: 'submitArgument',
      server: this.server(),
      query: Q.argue,
      variables: { caseId: c.gid, side: side(), body },
      token: user.token,
      allow: this.closedAfter(c),
    });
    if (r.data?.submitArgument) c.args.set(r.data.submitArgument.id, user.handle);
  }

  async upvote(user: SimUser) {
    let target: { c: KnownCase; arg: string } | undefined;
    const c = this.openCase(2_000, (k) => [...k.args].some(([id, author]) => author !== user.handle && !user.upvoted.has(id)));
    if (c) target = { c, arg: pick([...c.args].filter(([id, author]) => author !== user.handle && !user.upvoted.has(id)))[0] };
    if (!target || !this.hit(user)) return this.readCase(user);
    user.upvoted.add(target.arg);
    await call(this.options.stats, {
      kind: 'upvoteArgument',
      server: this.server(),
      query: Q.upvote,
      variables: { id: target.arg },
      token: user.token,
      allow: this.closedAfter(target.c),
    });
  }

  /** A refusal on purpose: it must come, with its code. */
  async refusal(user: SimUser, others: SimUser[]) {
    if (!this.hit(user)) return this.readBoard();
    const server = this.server();
    const which = Math.floor(Math.random() * 11);
    const stats = this.options.stats;
    switch (which) {
      case 0: {
        const c = this.openCase(2_000, (k) => user.voted.has(k.gid));
        if (!c) return this.readOpenCases(user);
        await call(stats, { kind: 'refuse:voteAgain', server, query: Q.vote, variables: { caseId: c.gid, side: side() }, token: user.token, refuse: ['ALREADY_VOTED'], allow: this.closedAfter(c) });
        return;
      }
      case 1: {
        const c = [...this.open.values()].find((k) => [...k.args.values()].includes(user.handle));
        const own = c && [...c.args].find(([, author]) => author === user.handle)?.[0];
        if (!own) return this.readOpenCases(user);
        await call(stats, { kind: 'refuse:ownUpvote', server, query: Q.upvote, variables: { id: own }, token: user.token, refuse: ['OWN_ARGUMENT'] });
        return;
      }
      case 2: {
        const c = this.openCase(0);
        await call(stats, { kind: 'refuse:anonymousVote', server, query: Q.vote, variables: { caseId: c?.gid ?? randomUUID(), side: 'A' }, refuse: ['UNAUTHENTICATED'] });
        return;
      }
      case 3:
        await call(stats, { kind: 'refuse:wrongPassword', server, query: Q.signIn, variables: { input: { handle: user.handle, password: 'not the passphrase' } }, refuse: ['INVALID_CREDENTIALS'] });
        return;
      case 4:
        await call(stats, { kind: 'refuse:handleTaken', server, query: Q.signUp, variables: { input: { handle: pick(others).handle, password: PASSWORD } }, refuse: ['HANDLE_TAKEN'] });
        return;
      case 5: {
        if (this.closed.size === 0) return this.readClosedCases();
        await call(stats, { kind: 'refuse:voteClosed', server, query: Q.vote, variables: { caseId: pick([...this.closed]), side: side() }, token: user.token, refuse: ['CASE_CLOSED'] });
        return;
      }
      case 6:
        await call(stats, { kind: 'refuse:badId', server, query: Q.node, variables: { id: 'not-a-global-id' }, refuse: ['BAD_USER_INPUT'] });
        return;
      case 7:
        await call(stats, { kind: 'refuse:notAdmin', server, query: Q.runJob, variables: { name: 'LEADERBOARD' }, token: user.token, refuse: ['FORBIDDEN'] });
        return;
      case 8: {
        const c = this.openCase(2_000, (k) => !user.argued.has(k.gid));
        if (!c) return this.readOpenCases(user);
        await call(stats, { kind: 'refuse:shortArgument', server, query: Q.argue, variables: { caseId: c.gid, side: 'A', body: 'too short' }, token: user.token, refuse: ['BAD_USER_INPUT'] });
        return;
      }
      case 9:
        await call(stats, { kind: 'refuse:unknownArgument', server, query: Q.upvote, variables: { id: randomUUID() }, token: user.token, refuse: ['NOT_FOUND'] });
        return;
      default:
        await call(stats, { kind: 'refuse:tooManyAliases', server, query: Q.tooManyAliases, refuse: ['GRAPHQL_VALIDATION_FAILED'] });
    }
  }

  /** The admin runs a job by hand now and then (another server may hold it: JOB_BUSY), and lists the jobs. */
  async admin(admin: SimUser) {
    if (!this.hit(admin)) return;
    const name = pick(['LEADERBOARD', 'BADGES', 'VERDICT_CHECK']);
    await call(this.options.stats, {
      kind: 'admin:runJob',
      server: this.server(),
      query: Q.runJob,
      variables: { name },
      token: admin.token,
      allow: (code) => code === 'JOB_BUSY',
    });
    await call(this.options.stats, { kind: 'admin:jobs', server: this.server(), query: Q.jobs, token: admin.token });
  }

  /**
   * `count` mutations by one user, spread over every server, inside one rate-limit window: with
   * the counters in Redis exactly `limit` pass (each answered NOT_FOUND: the argument does not
   * exist) and the rest are RATE_LIMITED. Returns the counts, or null if the burst straddled two
   * windows (then only "no unexpected answer" is checked).
   */
  async rateLimitBurst(spammer: SimUser, count: number) {
    const startWindow = Math.floor(Date.now() / 60_000);
    const codes: string[] = [];
    const one = async () => {
      const r = await call(this.options.stats, {
        kind: 'refuse:rateLimitBurst',
        server: this.server(),
        query: Q.upvote,
        variables: { id: randomUUID() },
        token: spammer.token,
        refuse: ['NOT_FOUND', 'RATE_LIMITED'],
      });
      codes.push(...r.codes);
    };
    for (let i = 0; i < count; i += 10) await Promise.all(Array.from({ length: Math.min(10, count - i) }, one));
    const sameWindow = Math.floor(Date.now() / 60_000) === startWindow;
    return {
      sameWindow,
      notFound: codes.filter((c) => c === 'NOT_FOUND').length,
      rateLimited: codes.filter((c) => c === 'RATE_LIMITED').length,
    };
  }

  /** One worker: its own users, a weighted mix of operations until the deadline. */
  async worker(mine: SimUser[], deadline: number, pauseMs: number, signUps: { next: number }) {
    const actions: [number, (u: SimUser) => Promise<unknown>][] = [
      [18, (u) => this.readOpenCases(Math.random() < 0.5 ? u : undefined)],
      [4, () => this.readClosedCases()],
      [12, () => this.readBoard()],
      [8, () => this.readNode()],
      [8, (u) => this.readCase(u)],
      [5, (u) => this.readMe(u)],
      [2, () => this.readVerify()],
      [3, (u) => this.signIn(u)],
      [2, async () => {
        const user = await this.signUp(`soak_late_${signUps.next++}_${randomBytes(2).toString('hex')}`);
        if (user) {
          this.users.push(user);
          mine.push(user);
        }
      }],
      [14, (u) => this.vote(u)],
      [8, (u) => this.argue(u)],
      [12, (u) => this.upvote(u)],
      [5, (u) => this.refusal(u, this.users)],
    ];
    const total = actions.reduce((a, [w]) => a + w, 0);
    while (Date.now() < deadline) {
      let r = Math.random() * total;
      const [, action] = actions.find(([w]) => (r -= w) < 0) ?? actions[0]!;
      await action(pick(mine));
      if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
