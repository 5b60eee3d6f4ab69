// sso.mjs drives the official WorkOS Node SDK against a workostest server
// and prints what the SDK returned, as one JSON object on stdout, for
// sdk_test.go to check field by field. It asserts nothing itself: every
// step records either its result or the exception the SDK threw, so one
// failing call does not hide the others.
//
// Input, from the environment (set by sdk_test.go):
//
//	WORKOSTEST_URL        base URL of the emulator, http://127.0.0.1:port
//	WORKOSTEST_API_KEY    its API key
//	WORKOSTEST_CLIENT_ID  its client ID
//	WORKOSTEST_REDIRECT   the registered redirect URI
//	WORKOSTEST_BULK_ORG   an organization holding more than 100 connections

import * as sdk from "@workos-inc/node";

const { WorkOS } = sdk;
const env = process.env;
const apiKey = env.WORKOSTEST_API_KEY;
const clientId = env.WORKOSTEST_CLIENT_ID;
const redirectUri = env.WORKOSTEST_REDIRECT;
const base = new URL(env.WORKOSTEST_URL);

// The SDK has no base URL option: it is put together from these three.
function client(key) {
  return new WorkOS(key, {
    apiHostname: base.hostname,
    port: Number(base.port),
    https: false,
    clientId,
  });
}

const workos = client(apiKey);
const out = {
  sdkVersion: workos.version,
  nodeVersion: process.version,
  baseURL: workos.baseURL,
};

const exceptionClasses = [
  "BadRequestException",
  "GenericServerException",
  "NotFoundException",
  "OauthException",
  "RateLimitExceededException",
  "UnauthorizedException",
  "UnprocessableEntityException",
];

// describe turns an exception into plain data; class is the exported SDK
// exception class it is an instance of, by instanceof rather than by name.
function describe(e) {
  return {
    class: exceptionClasses.find((c) => sdk[c] && e instanceof sdk[c]) ?? "",
    name: e?.name ?? "",
    message: String(e?.message ?? e),
    status: e?.status ?? 0,
    code: e?.code ?? "",
    error: e?.error ?? "",
    errorDescription: e?.errorDescription ?? "",
    requestID: e?.requestID ?? null,
  };
}

// attempt runs fn and returns {value} or {thrown}.
async function attempt(fn) {
  try {
    return { value: (await fn()) ?? null };
  } catch (e) {
    return { thrown: describe(e) };
  }
}

// follow plays the browser: it requests an authorization URL without
// following redirects and reads the answer at the redirect URI.
async function follow(url) {
  const res = await fetch(url, { redirect: "manual" });
  const location = res.headers.get("location") ?? "";
  const hop = { status: res.status, location };
  if (location.startsWith(redirectUri + "?")) {
    const q = new URL(location).searchParams;
    for (const k of ["code", "state", "error", "error_description"]) {
      hop[k] = q.get(k) ?? "";
    }
  }
  return hop;
}

function query(url) {
  return Object.fromEntries(
    [...new URL(url).searchParams.keys()].map((k) => [
      k,
      new URL(url).searchParams.getAll(k),
    ]),
  );
}

// connectionSummary keeps the fields the Go side checks.
function connectionSummary(c) {
  return {
    object: c.object,
    id: c.id,
    organizationId: c.organizationId ?? null,
    name: c.name,
    type: c.type,
    state: c.state,
    domains: c.domains,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

function listSummary(list) {
  return {
    object: list.object,
    ids: list.data.map((c) => c.id),
    before: list.listMetadata.before ?? null,
    after: list.listMetadata.after ?? null,
  };
}

// Organization selector, confidential client: the code is exchanged with
// the API key as client_secret, then exchanged again to see it refused.
{
  const url = workos.sso.getAuthorizationUrl({
    organization: "org_acme",
    clientId,
    redirectUri,
    state: "state-org",
  });
  const hop = await follow(url);
  const exchange = await attempt(() =>
    workos.sso.getProfileAndToken({ code: hop.code, clientId }),
  );
  let profile = null;
  let badToken = null;
  if (exchange.value) {
    profile = await attempt(() =>
      workos.sso.getProfile({ accessToken: exchange.value.accessToken }),
    );
    badToken = await attempt(() =>
      workos.sso.getProfile({ accessToken: "not-a-token" }),
    );
  }
  const reuse = await attempt(() =>
    workos.sso.getProfileAndToken({ code: hop.code, clientId }),
  );
  out.organization = { url, query: query(url), hop, exchange, profile, badToken, reuse };
}

// Connection selector with PKCE, first with a wrong verifier (the code
// is refused), then the whole flow again with the right one.
{
  const wrong = await workos.sso.getAuthorizationUrlWithPKCE({
    connection: "conn_acme_okta",
    clientId,
    redirectUri,
  });
  const wrongHop = await follow(wrong.url);
  const wrongExchange = await attempt(() =>
    workos.sso.getProfileAndToken({
      code: wrongHop.code,
      clientId,
      codeVerifier: workos.pkce.generateCodeVerifier(),
    }),
  );

  const pkce = await workos.sso.getAuthorizationUrlWithPKCE({
    connection: "conn_acme_okta",
    clientId,
    redirectUri,
    loginHint: "alice@acme.com",
  });
  const hop = await follow(pkce.url);
  const exchange = await attempt(() =>
    workos.sso.getProfileAndToken({
      code: hop.code,
      clientId,
      codeVerifier: pkce.codeVerifier,
    }),
  );
  out.pkce = {
    url: pkce.url,
    query: query(pkce.url),
    state: pkce.state,
    hop,
    exchange,
    wrongHop,
    wrongExchange,
  };
}

// Provider selector, with the provider options the SDK can send.
{
  const url = workos.sso.getAuthorizationUrl({
    provider: "GoogleOAuth",
    clientId,
    redirectUri,
    state: "state-provider",
    providerScopes: ["openid", "email"],
    providerQueryParams: { hd: "gmail.com" },
  });
  const hop = await follow(url);
  const exchange = await attempt(() =>
    workos.sso.getProfileAndToken({ code: hop.code, clientId }),
  );
  out.provider = { url, query: query(url), hop, exchange };
}

// A connection that is not active: the browser comes back with an error.
{
  const url = workos.sso.getAuthorizationUrl({
    connection: "conn_initech_saml",
    clientId,
    redirectUri,
    state: "state-inactive",
  });
  out.inactive = { url, hop: await follow(url) };
}

// The SDK refuses to build a URL without a selector, before any request.
out.noSelector = await attempt(() =>
  workos.sso.getAuthorizationUrl({ clientId, redirectUri }),
);

// Connections.
out.getConnection = await attempt(async () =>
  connectionSummary(await workos.sso.getConnection("conn_acme_okta")),
);
out.getUnknown = await attempt(() => workos.sso.getConnection("conn_nope"));

const list = async (options) =>
  listSummary(await workos.sso.listConnections(options));
out.lists = {
  all: await attempt(() => list()),
  asc: await attempt(() => list({ order: "asc", limit: 100 })),
  byOrganization: await attempt(() => list({ organizationId: "org_acme" })),
  byType: await attempt(() => list({ connectionType: "GoogleOAuth" })),
  byDomain: await attempt(() => list({ domain: "globex.com" })),
  badLimit: await attempt(() => list({ limit: 1000 })),
};

// Walk the default-ordered list two at a time through list_metadata.after.
out.pages = await attempt(async () => {
  const pages = [];
  let after;
  for (let i = 0; i < 100; i++) {
    const page = await list({ limit: 2, after });
    pages.push(page);
    if (!page.after) break;
    after = page.after;
  }
  return pages;
});

// autoPagination fetches pages of 100: the bulk organization needs two.
out.autoPagination = await attempt(async () => {
  const first = await workos.sso.listConnections({
    organizationId: env.WORKOSTEST_BULK_ORG,
  });
  const all = await first.autoPagination();
  return { firstPage: first.data.length, ids: all.map((c) => c.id) };
});

out.deleteConnection = await attempt(() =>
  workos.sso.deleteConnection("conn_globex_oidc"),
);
out.getDeleted = await attempt(() =>
  workos.sso.getConnection("conn_globex_oidc"),
);
out.deleteAgain = await attempt(() =>
  workos.sso.deleteConnection("conn_globex_oidc"),
);

// Directory Sync: the seed's directories, Acme's users with their groups,
// and a directory deleted.
const directorySummary = (d) => ({
  object: d.object,
  id: d.id,
  organizationId: d.organizationId ?? null,
  name: d.name,
  type: d.type,
  state: d.state,
});
const directoryUserSummary = (u) => ({
  object: u.object,
  id: u.id,
  directoryId: u.directoryId,
  organizationId: u.organizationId ?? null,
  idpId: u.idpId,
  email: u.email ?? null,
  firstName: u.firstName ?? null,
  state: u.state,
  groups: (u.groups ?? []).map((g) => g.name),
});
out.directories = await attempt(async () => {
  const all = await workos.directorySync.listDirectories();
  return all.data.map(directorySummary);
});
out.directoriesOfGlobex = await attempt(async () => {
  const list = await workos.directorySync.listDirectories({ organizationId: "org_globex" });
  return list.data.map((d) => d.id);
});
out.getDirectory = await attempt(async () =>
  directorySummary(await workos.directorySync.getDirectory("directory_acme")),
);
out.directoryUsers = await attempt(async () => {
  const list = await workos.directorySync.listUsers({ directory: "directory_acme" });
  return list.data.map(directoryUserSummary);
});
out.getDirectoryUser = await attempt(async () => {
  const list = await workos.directorySync.listUsers({ directory: "directory_globex" });
  return directoryUserSummary(await workos.directorySync.getUser(list.data[0].id));
});
out.directoryGroups = await attempt(async () => {
  const list = await workos.directorySync.listGroups({ directory: "directory_acme" });
  const group = await workos.directorySync.getGroup(list.data[0].id);
  return { names: list.data.map((g) => g.name), first: { id: group.id, name: group.name, directoryId: group.directoryId } };
});
out.deleteDirectory = await attempt(() =>
  workos.directorySync.deleteDirectory("directory_globex"),
);
out.getDeletedDirectory = await attempt(() =>
  workos.directorySync.getDirectory("directory_globex"),
);

// Events: the connection and the directory deleted above, oldest first,
// then nothing after the last of them.
const eventSummary = (e) => ({ id: e.id, event: e.event, dataId: e.data?.id ?? null, createdAt: e.createdAt });
out.events = await attempt(async () => {
  const list = await workos.events.listEvents({ events: ["connection.deleted", "dsync.deleted"] });
  return { events: list.data.map(eventSummary), after: list.listMetadata?.after ?? null };
});
out.eventsAfter = await attempt(async () => {
  const first = await workos.events.listEvents({ events: ["connection.deleted", "dsync.deleted"] });
  const last = first.data[first.data.length - 1].id;
  const list = await workos.events.listEvents({ events: ["connection.deleted", "dsync.deleted"], after: last });
  return list.data.map(eventSummary);
});
out.eventsOfAcme = await attempt(async () => {
  const list = await workos.events.listEvents({ events: ["connection.deleted", "dsync.deleted"], organizationId: "org_acme" });
  return list.data.map(eventSummary);
});

// Organizations, their domains and the Admin Portal: onboarding a
// customer.
const orgSummary = (o) => ({
  object: o.object,
  id: o.id,
  name: o.name,
  externalId: o.externalId ?? null,
  domains: (o.domains ?? []).map((d) => ({ domain: d.domain, state: d.state })),
});
out.organizations = await attempt(async () => {
  const list = await workos.organizations.listOrganizations({ limit: 100 });
  return list.data.map(orgSummary);
});
out.createOrganization = await attempt(async () =>
  orgSummary(
    await workos.organizations.createOrganization({
      name: "Hooli",
      domainData: [{ domain: "hooli.example", state: "pending" }],
      externalId: "crm-hooli",
    }),
  ),
);
const hooliId = out.createOrganization.value?.id;
out.getOrganizationByExternalId = await attempt(async () =>
  orgSummary(await workos.organizations.getOrganizationByExternalId("crm-hooli")),
);
out.updateOrganization = await attempt(async () =>
  orgSummary(await workos.organizations.updateOrganization({ organization: hooliId, name: "Hooli XYZ" })),
);
out.organizationDomain = await attempt(async () => {
  const d = await workos.organizationDomains.create({ domain: "hooli.xyz", organizationId: hooliId });
  const verified = await workos.organizationDomains.verify(d.id);
  const got = await workos.organizationDomains.get(d.id);
  await workos.organizationDomains.delete(d.id);
  return { created: d.state, verified: verified.state, got: got.domain, organizationId: got.organizationId };
});
out.portalLink = await attempt(async () =>
  (await workos.portal.generateLink({ organization: hooliId, intent: "sso" })).link,
);
out.portalLinkUnknown = await attempt(() =>
  workos.portal.generateLink({ organization: "org_nope", intent: "sso" }),
);
out.organizationEvents = await attempt(async () => {
  const list = await workos.events.listEvents({ events: ["organization.created", "organization.updated", "organization_domain.created", "organization_domain.deleted"] });
  return list.data.map((e) => e.event);
});
out.deleteOrganization = await attempt(() => workos.organizations.deleteOrganization(hooliId));
out.getDeletedOrganization = await attempt(() => workos.organizations.getOrganization(hooliId));

// A wrong API key.
out.badKey = await attempt(() =>
  client("sk_test_wrong").sso.listConnections(),
);

process.stdout.write(JSON.stringify(out, null, 2) + "\n");
