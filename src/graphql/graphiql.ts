import type { GraphiQLOptions } from 'graphql-yoga';

/** An operation GraphiQL opens in a tab of its own; GraphiQL names the tab after the first operation. */
export interface ExampleOperation {
  query: string;
  variables: Record<string, unknown>;
}

export const EXAMPLE_OPERATIONS: readonly ExampleOperation[] = [
  {
    query: `# Cases open for voting, newest first, with how many
# voted and argued so far. How the votes split and the
# judge's ruling stay hidden until a case closes.
query OpenCases($first: Int = 10, $after: String) {
  cases(status: OPEN, first: $first, after: $after) {
    edges {
      node {
        id
        title
        dilemma
        sideA
        sideB
        closesAt
        rewardPool
        voteCount
        argumentCount
        myVote {
          side
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`,
    variables: { first: 10 },
  },
  {
    query: `# 1. In Variables, choose a handle (3–32 of a–z, 0–9, _)
#    and a password (10 characters or more); run SignUp.
#    Signed up before? Run SignIn with the same variables.
# 2. Copy "token" from the answer into Headers:
#    {"Authorization": "Bearer <token>"}
#    Each tab keeps its own headers: paste it in the tab
#    you run next (Vote) too.
mutation SignUp($input: CredentialsInput!) {
  signUp(input: $input) {
    token
    expiresAt
    user {
      id
      handle
    }
  }
}

mutation SignIn($input: CredentialsInput!) {
  signIn(input: $input) {
    token
    expiresAt
    user {
      id
      handle
    }
  }
}
`,
    variables: { input: { handle: 'your_handle', password: 'a long passphrase' } },
  },
  {
    query: `# Needs your token in this tab's Headers (see SignUp).
# caseId: an id from OpenCases; side: A or B. One vote
# per case, while it is open; it cannot be changed.
# The receipt is Verdict's signature over your vote.
mutation Vote($caseId: ID!, $side: Side!) {
  castVote(caseId: $caseId, side: $side) {
    side
    createdAt
    case {
      title
      voteCount
    }
    receipt {
      leaf
      signature
      signer
    }
  }
}
`,
    variables: { caseId: '<an id from OpenCases>', side: 'A' },
  },
  {
    query: `# Live over WebSocket, no token needed: the period's
# top entries each time the leaderboard job runs (every
# 15 minutes by default; an admin can run it at once:
# mutation { runJob(name: LEADERBOARD) { status } }).
# period: ALL_TIME, WEEKLY or DAILY. The same button stops it.
subscription LeaderboardLive($period: LeaderboardPeriod!) {
  leaderboardUpdated(period: $period) {
    period
    computedAt
    entries {
      rank
      handle
      points
    }
  }
}
`,
    variables: { period: 'WEEKLY' },
  },
];

/** JSON text, as GraphiQL's Headers editor expects it. */
export const DEFAULT_HEADERS = JSON.stringify({ Authorization: 'Bearer <paste the token from signUp or signIn>' }, null, 2);

export const graphiqlOptions: GraphiQLOptions = {
  title: 'Verdict',
  subscriptionsProtocol: 'WS',
  defaultTabs: EXAMPLE_OPERATIONS.map(({ query, variables }) => ({
    query,
    variables: JSON.stringify(variables, null, 2),
  })),
  // Every tab opens with it (the examples' and new ones); the placeholder is no token, so the
  // public examples run unchanged before anyone signs in.
  defaultHeaders: DEFAULT_HEADERS,
  // A bearer token is a credential: kept in the page, not in the browser's storage.
  shouldPersistHeaders: false,
  defaultEditorToolsVisibility: true,
};
