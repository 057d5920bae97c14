// The sign-in provider's decisions, with a fake msal-browser: silent for the Dynamics user's cached
// account, then ssoSilent with their UPN, and the popup only when a click asked for the token; and
// msal's errors in words for the seller or the admin.
import type { AccountInfo } from "@azure/msal-browser";
import { createRelayClient, RelayError } from "../services/relay.ts";
import { createSignIn, describeSignInError, fetchSignInSettings, SignInError, webResourceUrl, type MsalClient, type SignInSettings } from "../services/signIn.ts";

const UPN = "dana.seller@contoso.example";
const SETTINGS: SignInSettings = {
  authority: "https://login.microsoftonline.com/7d3f2c1b-5a4e-4f6d-8c9b-0a1e2f3d4c5b",
  clientId: "b1c2d3e4-0005-4a5b-8c7d-9e0f1a2b3c4d",
  scopes: ["api://b1c2d3e4-0004-4a5b-8c7d-9e0f1a2b3c4d/user_impersonation"],
  knownAuthorities: ["login.microsoftonline.com"],
};
const REDIRECT = webResourceUrl("https://contoso.crm4.dynamics.com", "pcr", "redirect.html");

const account = (username: string): AccountInfo => ({ homeAccountId: `${username}.home`, environment: "login.microsoftonline.com", tenantId: "t", username, localAccountId: username } as AccountInfo);

/** msal's errors carry errorCode and errorMessage; InteractionRequiredAuthError is one of them. */
const msalError = (errorCode: string, errorMessage = "") => Object.assign(new Error(`${errorCode}: ${errorMessage}`), { errorCode, errorMessage });

interface FakeMsal extends MsalClient {
  calls: string[];
  configuration?: unknown;
}

function fakeMsal(behaviour: { accounts?: AccountInfo[]; silent?: () => Promise<string>; sso?: () => Promise<string>; popup?: () => Promise<string> } = {}): FakeMsal {
  const calls: string[] = [];
  const answer = async (token: Promise<string>) => ({ accessToken: await token, account: account(UPN) });
  return {
    calls,
    initialize: async () => void calls.push("initialize"),
    getAllAccounts: () => behaviour.accounts ?? [],
    setActiveAccount: () => undefined,
    acquireTokenSilent: (request) => {
      calls.push(`silent ${request.account.username}`);
      return answer(behaviour.silent?.() ?? Promise.reject(msalError("no_tokens_found")));
    },
    ssoSilent: (request) => {
      calls.push(`ssoSilent ${request.loginHint ?? "-"} ${request.redirectUri}`);
      return answer(behaviour.sso?.() ?? Promise.reject(msalError("login_required", "AADSTS50058: A silent sign-in request was sent but no user is signed in.")));
    },
    acquireTokenPopup: (request) => {
      calls.push(`popup ${request.loginHint ?? request.prompt ?? "-"}`);
      return answer(behaviour.popup?.() ?? Promise.resolve("popup-token"));
    },
  };
}

function provider(msal: FakeMsal, options: { settings?: () => Promise<SignInSettings>; loginHint?: string | undefined } = {}) {
  const loads = { settings: 0, clients: 0 };
  const getAccessToken = createSignIn({
    loadSettings: () => {
      loads.settings += 1;
      return options.settings ? options.settings() : Promise.resolve(SETTINGS);
    },
    createClient: async (configuration) => {
      loads.clients += 1;
      msal.configuration = configuration;
      return msal;
    },
    loginHint: () => Promise.resolve("loginHint" in options ? options.loginHint : UPN),
    redirectUri: REDIRECT,
  });
  return { getAccessToken, loads };
}

describe("the sign-in provider", () => {
  test("a cached account of the Dynamics user: acquireTokenSilent only, with msal configured from the relay's settings", async () => {
    const msal = fakeMsal({ accounts: [account("someone.else@contoso.example"), account(UPN.toUpperCase())], silent: () => Promise.resolve("cached-token") });
    const { getAccessToken, loads } = provider(msal);
    await expect(getAccessToken()).resolves.toBe("cached-token");
    await expect(getAccessToken()).resolves.toBe("cached-token");
    expect(msal.calls).toEqual(["initialize", `silent ${UPN.toUpperCase()}`, `silent ${UPN.toUpperCase()}`]);
    expect(loads).toEqual({ settings: 1, clients: 1 });
    expect(msal.configuration).toEqual({
      auth: { clientId: SETTINGS.clientId, authority: SETTINGS.authority, knownAuthorities: SETTINGS.knownAuthorities, redirectUri: REDIRECT },
      cache: { cacheLocation: "localStorage" },
    });
  });

  test("no cached account: ssoSilent with the user's UPN as login_hint and the redirect page", async () => {
    const msal = fakeMsal({ accounts: [account("someone.else@contoso.example")], sso: () => Promise.resolve("sso-token") });
    await expect(provider(msal).getAccessToken()).resolves.toBe("sso-token");
    expect(msal.calls).toEqual(["initialize", `ssoSilent ${UPN} ${REDIRECT}`]);
  });

  test("a cached account whose refresh fails falls back to ssoSilent", async () => {
    const msal = fakeMsal({ accounts: [account(UPN)], silent: () => Promise.reject(msalError("interaction_required")), sso: () => Promise.resolve("sso-token") });
    await expect(provider(msal).getAccessToken()).resolves.toBe("sso-token");
    expect(msal.calls).toEqual(["initialize", `silent ${UPN}`, `ssoSilent ${UPN} ${REDIRECT}`]);
  });

  test("no session and no click: no popup, the seller is asked to select Sync now; the next click opens the popup at once", async () => {
    const msal = fakeMsal();
    const { getAccessToken } = provider(msal);
    const refused = await getAccessToken().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SignInError);
    expect(refused).toMatchObject({ who: "seller", code: "login_required", message: "Select Sync now again to sign in to the relay." });
    expect(msal.calls).toEqual(["initialize", `ssoSilent ${UPN} ${REDIRECT}`]);

    msal.calls.length = 0;
    await expect(getAccessToken({ interactive: true })).resolves.toBe("popup-token");
    // Silence already failed: straight to the popup, while the browser still counts the click.
    expect(msal.calls).toEqual([`popup ${UPN}`]);
  });

  test("no session on a click: silent attempts first, then the popup in the same call", async () => {
    const msal = fakeMsal();
    await expect(provider(msal).getAccessToken({ interactive: true })).resolves.toBe("popup-token");
    expect(msal.calls).toEqual(["initialize", `ssoSilent ${UPN} ${REDIRECT}`, `popup ${UPN}`]);
  });

  test("without a UPN: ssoSilent without login_hint, and the popup lets the seller pick the account", async () => {
    const msal = fakeMsal();
    await expect(provider(msal, { loginHint: undefined }).getAccessToken({ interactive: true })).resolves.toBe("popup-token");
    expect(msal.calls).toEqual(["initialize", `ssoSilent - ${REDIRECT}`, "popup select_account"]);
  });

  test("an admin problem found silently is said at once, without a popup", async () => {
    const msal = fakeMsal({ sso: () => Promise.reject(msalError("invalid_request", "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.")) });
    const refused = await provider(msal).getAccessToken({ interactive: true }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ who: "admin", code: "AADSTS700016" });
    expect((refused as Error).message).toContain("PCR_API_SPA_CLIENT_ID");
    expect(msal.calls).not.toContainEqual(expect.stringMatching(/^popup/));
  });

  test("a blocked or closed popup says what to do", async () => {
    const blocked = fakeMsal({ popup: () => Promise.reject(msalError("popup_window_error")) });
    await expect(provider(blocked).getAccessToken({ interactive: true })).rejects.toMatchObject({ who: "seller", message: expect.stringContaining("allow pop-ups") });
    const closed = fakeMsal({ popup: () => Promise.reject(msalError("user_cancelled")) });
    await expect(provider(closed).getAccessToken({ interactive: true })).rejects.toMatchObject({ message: expect.stringContaining("Select Sync now again") });
  });

  test("settings that cannot be read are tried again on the next call", async () => {
    const msal = fakeMsal({ sso: () => Promise.resolve("sso-token") });
    let attempt = 0;
    const { getAccessToken, loads } = provider(msal, {
      settings: () => (++attempt === 1 ? Promise.reject(new SignInError("admin", "sign_in_not_set_up", "not set up")) : Promise.resolve(SETTINGS)),
    });
    await expect(getAccessToken()).rejects.toMatchObject({ code: "sign_in_not_set_up" });
    await expect(getAccessToken()).resolves.toBe("sso-token");
    expect(loads.settings).toBe(2);
  });

  test("the relay client asks for a click's token when a run starts, and a silent one while it follows the run", async () => {
    const asked: unknown[] = [];
    const fetch = async (input: string): Promise<Response> =>
      new Response(JSON.stringify(input.endsWith("/sync") ? { runId: "r1" } : { state: "running" }), { status: input.endsWith("/sync") ? 202 : 200 });
    const client = createRelayClient("https://relay.example", (options) => {
      asked.push(options);
      return Promise.resolve("t");
    }, fetch);
    await client.start("sync", "o1");
    await client.getRun("r1");
    expect(asked).toEqual([{ interactive: true }, undefined]);

    const failing = createRelayClient("https://relay.example", () => Promise.reject(new SignInError("seller", "login_required", "Select Sync now again to sign in to the relay.")), fetch);
    const error = await failing.start("sync", "o1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayError);
    expect((error as RelayError).failure).toEqual({ kind: "signIn", message: "Select Sync now again to sign in to the relay." });
  });
});

describe("msal's errors in plain words", () => {
  test.each<[string, ReturnType<typeof msalError>, boolean, "seller" | "admin", string]>([
    ["interaction needed, no click", msalError("interaction_required"), false, "seller", "Select Sync now again to sign in to the relay."],
    ["consent missing", msalError("consent_required", "AADSTS65001: The user or administrator has not consented"), false, "admin", "grant admin consent"],
    ["unknown client id", msalError("unauthorized_client", "AADSTS700016: Application with identifier"), true, "admin", "PCR_API_SPA_CLIENT_ID"],
    ["redirect URI not registered", msalError("invalid_request", "AADSTS50011: The redirect URI"), true, "admin", "Single-page application redirect URI"],
    ["a Web redirect URI", msalError("invalid_request", "AADSTS9002326: Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type."), true, "admin", "not Single-page application"],
    ["Entra ID unreachable", msalError("endpoints_resolution_error"), false, "admin", "PCR_AUTHORITY_HOST"],
    ["the iframe timed out", msalError("timed_out"), false, "seller", "Select Sync now again"],
  ])("%s", (_name, error, interactive, who, words) => {
    const described = describeSignInError(error, interactive);
    expect(described.who).toBe(who);
    expect(described.message).toContain(words);
  });
});

describe("the relay's sign-in settings", () => {
  const answer = (status: number, body: unknown) => async (): Promise<Response> => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

  test("are read from GET /api/sign-in", async () => {
    const seen: string[] = [];
    const settings = await fetchSignInSettings("https://relay.example", async (input, init) => {
      seen.push(`${init?.credentials} ${input}`);
      return answer(200, SETTINGS)();
    });
    expect(settings).toEqual(SETTINGS);
    expect(seen).toEqual(["omit https://relay.example/api/sign-in"]);
  });

  test("a relay without its client API set up, or with incomplete settings, is the admin's to fix", async () => {
    await expect(fetchSignInSettings("https://relay.example", answer(503, { error: { code: "client-api-off", message: "the client API is not set up" } }))).rejects.toMatchObject({ who: "admin", message: expect.stringContaining("PCR_API_AUDIENCE") });
    await expect(fetchSignInSettings("https://relay.example", answer(200, { authority: "x" }))).rejects.toMatchObject({ who: "admin", code: "sign_in_settings" });
    await expect(fetchSignInSettings("https://relay.example", () => Promise.reject(new TypeError("Failed to fetch")))).rejects.toMatchObject({ who: "seller", code: "relay_unreachable" });
  });

  test("the sign-in's web resources live in the publisher prefix's signin folder", () => {
    expect(new URL(REDIRECT).pathname.split("/").slice(-3)).toEqual(["pcr_", "signin", "redirect.html"]);
  });
});
