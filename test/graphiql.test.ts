import { Kind, getVariableValues, parse, validate, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HEADERS, EXAMPLE_OPERATIONS } from '../src/graphql/graphiql.js';
import { schema } from '../src/graphql/schema.js';
import { createTestApp, type TestApp } from './support/app.js';

const operationsOf = (query: string) =>
  parse(query).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);

describe('GraphiQL example operations', () => {
  it.each(EXAMPLE_OPERATIONS.map((example) => [operationsOf(example.query)[0]?.name?.value, example] as const))(
    '%s validates against the schema, with its variables',
    (_name, example) => {
      const document = parse(example.query);
      expect(validate(schema, document)).toEqual([]);
      for (const operation of operationsOf(example.query)) {
        const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], example.variables ?? {});
        expect(coerced.errors, operation.name?.value).toBeUndefined();
      }
    },
  );

  it('are the tabs the issue asks for, in order', () => {
    expect(EXAMPLE_OPERATIONS.map((e) => operationsOf(e.query).map((o) => `${o.operation} ${o.name?.value}`))).toEqual([
      ['query OpenCases'],
      ['mutation SignUp', 'mutation SignIn'],
      ['mutation Vote'],
      ['subscription LeaderboardLive'],
    ]);
    expect(JSON.parse(DEFAULT_HEADERS)).toEqual({ Authorization: 'Bearer <paste the token from signUp or signIn>' });
  });
});

describe('the GraphiQL page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('opens on the example tabs with the headers template, and keeps the token out of storage', async () => {
    const response = await t.app.yoga.fetch(`http://verdict.test${t.config.GRAPHQL_PATH}`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    // The page hands its options to GraphiQL as one JSON object: read them back as the browser will.
    const call = html.slice(html.lastIndexOf('YogaGraphiQL.renderYogaGraphiQL('));
    const json = /^YogaGraphiQL\.renderYogaGraphiQL\(\s*[^,]+,\s*(\{.*\}),\s*\);/m.exec(call)?.[1];
    expect(json).toBeDefined();
    const options = JSON.parse(json!);
    expect(options.defaultTabs).toEqual(
      EXAMPLE_OPERATIONS.map((e) => ({ query: e.query, variables: JSON.stringify(e.variables, null, 2) })),
    );
    expect(options.defaultTabs.map((tab: { query: string }) => /(query|mutation|subscription) (\w+)/.exec(tab.query)?.[2])).toEqual([
      'OpenCases',
      'SignUp',
      'Vote',
      'LeaderboardLive',
    ]);
    expect(JSON.parse(options.defaultHeaders)).toEqual({ Authorization: 'Bearer <paste the token from signUp or signIn>' });
    expect(options).toMatchObject({ title: 'Verdict', subscriptionsProtocol: 'WS', shouldPersistHeaders: false });
  });

  it('answers the Open cases example as it stands, headers template included', async () => {
    const openCases = EXAMPLE_OPERATIONS[0]!;
    const response = await t.app.yoga.fetch(`http://verdict.test${t.config.GRAPHQL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...JSON.parse(DEFAULT_HEADERS) },
      body: JSON.stringify({ query: openCases.query, variables: openCases.variables }),
    });
    const result = await response.json();
    expect(result.errors).toBeUndefined();
    expect(result.data.cases.edges).toBeInstanceOf(Array);
  });
});
