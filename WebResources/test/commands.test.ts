// The command bar: Open in Partner Center and Sync now, and their enable rules.
import { jest } from "@jest/globals";
import { EnvironmentVariables, Opportunity } from "../../Core/generated/schema.ts";
import { NotificationId } from "../src/names.ts";
import { isOpenInPartnerCenterEnabled, isSyncNowEnabled, openInPartnerCenter, syncNow } from "../src/commands.ts";
import { configureRelayServices, configureRelaySignIn } from "../src/relaySignIn.ts";
import { DEAL_VALUE, defaultData, Ids, openForm, type FormSetup, type TestForm } from "./fakes.ts";

const c = Opportunity.columns;
const LINK = "https://partner.microsoft.com/dashboard/referrals/v2/4f1a2b3c";
const RELAY = "https://relay.contoso.example";

describe("Open in Partner Center", () => {
  test("is enabled when there is a referral link, and opens it", () => {
    const t = openForm({ referralLink: LINK });
    expect(isOpenInPartnerCenterEnabled(t.form)).toBe(true);
    const open = jest.spyOn(Xrm.Navigation, "openUrl");
    openInPartnerCenter(t.form);
    expect(open).toHaveBeenCalledWith(LINK);
  });

  test("is disabled without a link, or with one a browser must not open", () => {
    expect(isOpenInPartnerCenterEnabled(openForm().form)).toBe(false);
    expect(isOpenInPartnerCenterEnabled(openForm({ referralLink: "javascript:alert(1)" }).form)).toBe(false);
    expect(isOpenInPartnerCenterEnabled(openForm({ referralLink: "http://partner.microsoft.com/x" }).form)).toBe(false);
    expect(isOpenInPartnerCenterEnabled(openForm({ omit: [c.referralLink] }).form)).toBe(false);
  });

  test("without a link it says when the link will come (en and nl)", () => {
    for (const [language, text] of [[1033, "The referral link appears once the deal is in Partner Center."], [1043, "De verwijzingskoppeling verschijnt zodra de deal in Partner Center staat."]] as const) {
      const t = openForm({ language });
      const open = jest.spyOn(Xrm.Navigation, "openUrl");
      openInPartnerCenter(t.form);
      expect(open).not.toHaveBeenCalled();
      expect(t.notification(NotificationId.command)).toEqual({ level: "INFO", message: text, uniqueId: NotificationId.command });
    }
  });

  test("works on the lead form too", () => {
    const t = openForm({ entity: "lead", referralLink: LINK });
    expect(isOpenInPartnerCenterEnabled(t.form)).toBe(true);
  });
});

describe("Sync now: enable rule", () => {
  test("enabled when Sync = Yes on a saved opportunity", () => {
    expect(isSyncNowEnabled(openForm().form)).toBe(true);
  });
  test.each<[string, FormSetup]>([
    ["a new record", { id: null }],
    ["Sync = No", { sync: false }],
    ["a lead", { entity: "lead" }],
    ["a form without the Sync column", { omit: [c.syncWithPartnerCenter] }],
  ])("disabled on %s", (_name, setup) => {
    expect(isSyncNowEnabled(openForm(setup).form)).toBe(false);
  });
});

interface Exchange {
  method: string;
  url: string;
  authorization: string | null;
}

/** A relay that queues the run, then reports the given states, one per poll. */
function fakeRelay(states: Array<{ state: string; error?: string }>, start: { status: number; body: unknown } = { status: 202, body: { runId: "run-42" } }) {
  const exchanges: Exchange[] = [];
  const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    exchanges.push({ method: init?.method ?? "GET", url: input, authorization: headers.get("Authorization") });
    if (init?.method === "POST") return new Response(JSON.stringify(start.body), { status: start.status, headers: { "Content-Type": "application/json" } });
    const next = states.shift() ?? { state: "running" };
    return new Response(JSON.stringify({ runId: "run-42", ...next }), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  return { exchanges, fetch };
}

function stubProgress() {
  return {
    show: jest.spyOn(Xrm.Utility, "showProgressIndicator").mockImplementation(() => undefined),
    close: jest.spyOn(Xrm.Utility, "closeProgressIndicator").mockImplementation(() => undefined),
  };
}

function stubData(t: TestForm) {
  const refresh = jest.fn(() => Promise.resolve(undefined));
  const save = jest.fn(() => Promise.resolve(undefined));
  Object.assign(t.form.data, { refresh, save });
  return { refresh, save };
}

const noWait = (): Promise<void> => Promise.resolve();

describe("Sync now", () => {
  test("by default signs in with msal-browser through the relay's sign-in settings: a relay without them says the admin must set it up, and starts nothing", async () => {
    for (const [language, text] of [[1033, "Could not sign in to the relay: The relay's sign-in is not set up (HTTP 503"], [1043, "Aanmelden bij de relay is mislukt: The relay's sign-in is not set up (HTTP 503"]] as const) {
      const t = openForm({ language });
      const exchanges: string[] = [];
      const fetch = async (input: string, init?: RequestInit): Promise<Response> => {
        exchanges.push(`${init?.method ?? "GET"} ${input}`);
        return new Response(JSON.stringify({ error: { code: "client-api-off", message: "the client API is not set up" } }), { status: 503, headers: { "Content-Type": "application/json" } });
      };
      configureRelayServices({ fetch, sleep: noWait });
      stubProgress();
      stubData(t);
      await syncNow(t.form);
      expect(t.notification(NotificationId.command)?.message).toContain(text);
      expect(t.notification(NotificationId.command)?.message).toContain("PCR_API_AUDIENCE");
      expect(exchanges).toEqual([`GET ${RELAY}/api/sign-in`]);
    }
  });

  test("syncs, following the run with a progress indicator, and says it succeeded", async () => {
    const t = openForm();
    const relay = fakeRelay([{ state: "queued" }, { state: "running" }, { state: "succeeded" }]);
    configureRelaySignIn(() => Promise.resolve("token-abc"));
    configureRelayServices({ fetch: relay.fetch, sleep: noWait });
    const progress = stubProgress();
    const data = stubData(t);
    await syncNow(t.form);

    expect(relay.exchanges.map((e) => `${e.method} ${e.url}`)).toEqual([
      `POST ${RELAY}/api/opportunities/${Ids.opportunity}/sync`,
      `GET ${RELAY}/api/runs/run-42`,
      `GET ${RELAY}/api/runs/run-42`,
      `GET ${RELAY}/api/runs/run-42`,
    ]);
    expect(relay.exchanges.every((e) => e.authorization === "Bearer token-abc")).toBe(true);
    expect(progress.show.mock.calls.map((call) => call[0])).toEqual([
      "Asking the relay to sync…",
      "Waiting in the relay's queue…", // the run is queued as soon as it starts
      "Waiting in the relay's queue…",
      "Syncing with Partner Center…",
    ]);
    expect(progress.close).toHaveBeenCalledTimes(1);
    expect(t.notification(NotificationId.command)).toEqual({ level: "INFO", message: "Synced with Partner Center.", uniqueId: NotificationId.command });
    expect(data.refresh).toHaveBeenCalledWith(false);
    expect(data.save).not.toHaveBeenCalled();
  });

  test("a failed run says why (nl), and a dead one says the relay gave up", async () => {
    const t = openForm({ language: 1043 });
    configureRelaySignIn(() => Promise.resolve("token"));
    configureRelayServices({ fetch: fakeRelay([{ state: "failed", error: "Partner Center refused the deal value" }]).fetch, sleep: noWait });
    const progress = stubProgress();
    const data = stubData(t);
    await syncNow(t.form);
    expect(t.notification(NotificationId.command)).toEqual({ level: "ERROR", message: "De synchronisatie is mislukt: Partner Center refused the deal value", uniqueId: NotificationId.command });
    expect(progress.close).toHaveBeenCalledTimes(1);
    expect(data.refresh).not.toHaveBeenCalled();

    configureRelayServices({ fetch: fakeRelay([{ state: "dead", error: "HTTP 500" }]).fetch });
    await syncNow(t.form);
    expect(t.notification(NotificationId.command)?.message).toBe("De relay heeft het na meerdere pogingen opgegeven: HTTP 500");
  });

  test.each<[string, { status: number; body: unknown }, string]>([
    ["the relay refuses the token", { status: 401, body: {} }, "Could not sign in to the relay: the relay refused the sign-in (HTTP 401)"],
    ["the relay fails", { status: 500, body: { message: "queue is down" } }, "The relay answered with HTTP 500: queue is down"],
    ["the relay answers nonsense", { status: 202, body: { nothing: true } }, "The relay gave an answer the form does not understand."],
  ])("when %s, the notification says so and the progress indicator closes", async (_name, start, message) => {
    const t = openForm();
    configureRelaySignIn(() => Promise.resolve("token"));
    configureRelayServices({ fetch: fakeRelay([], start).fetch, sleep: noWait });
    const progress = stubProgress();
    await syncNow(t.form);
    expect(t.notification(NotificationId.command)).toEqual({ level: "ERROR", message, uniqueId: NotificationId.command });
    expect(progress.close).toHaveBeenCalledTimes(1);
  });

  test("an unreachable relay and a sign-in that fails", async () => {
    const t = openForm();
    configureRelaySignIn(() => Promise.resolve("token"));
    configureRelayServices({ fetch: () => Promise.reject(new TypeError("Failed to fetch")), sleep: noWait });
    stubProgress();
    await syncNow(t.form);
    expect(t.notification(NotificationId.command)?.message).toBe(`The relay at ${RELAY} could not be reached.`);

    configureRelaySignIn(() => Promise.reject(new Error("interaction_required")));
    await syncNow(t.form);
    expect(t.notification(NotificationId.command)?.message).toBe("Could not sign in to the relay: interaction_required");
  });

  test("a run that outlasts the wait says it is still running", async () => {
    const t = openForm();
    configureRelaySignIn(() => Promise.resolve("token"));
    let now = 0;
    configureRelayServices({ fetch: fakeRelay([]).fetch, sleep: (ms) => { now += ms; return Promise.resolve(); } });
    const realNow = Date.now;
    Date.now = () => now;
    try {
      stubProgress();
      await syncNow(t.form);
    } finally {
      Date.now = realNow;
    }
    expect(t.notification(NotificationId.command)?.level).toBe("WARNING");
    expect(t.notification(NotificationId.command)?.message).toContain("The sync is still running.");
  });

  test("unsaved changes are saved first; a refused save sends nothing", async () => {
    const t = openForm();
    configureRelaySignIn(() => Promise.resolve("token"));
    const relay = fakeRelay([{ state: "succeeded" }]);
    configureRelayServices({ fetch: relay.fetch, sleep: noWait });
    stubProgress();
    const data = stubData(t);
    t.attribute<Xrm.Attributes.NumberAttribute>(DEAL_VALUE).setValue(150000);
    data.save.mockImplementationOnce(() => Promise.reject(new Error("refused")));
    await syncNow(t.form);
    expect(data.save).toHaveBeenCalledTimes(1);
    expect(relay.exchanges).toEqual([]);

    await syncNow(t.form);
    expect(data.save).toHaveBeenCalledTimes(2);
    expect(relay.exchanges[0]?.method).toBe("POST");
  });

  test("the Relay URL: empty or not https, Sync now says what the admin must fix", async () => {
    for (const [value, message] of [["", "the Relay URL environment variable is empty"], ["http://relay.contoso.example", "is not an https address"]] as const) {
      const data = defaultData();
      data.variables[EnvironmentVariables.relayUrl.schemaName] = value;
      const t = openForm({}, data);
      configureRelaySignIn(() => Promise.resolve("token"));
      const relay = fakeRelay([]);
      configureRelayServices({ fetch: relay.fetch, sleep: noWait });
      await syncNow(t.form);
      expect(t.notification(NotificationId.command)?.message).toContain(message);
      expect(relay.exchanges).toEqual([]);
    }
  });

  test("on a new record or with Sync = No, it says what is missing first", async () => {
    configureRelaySignIn(() => Promise.resolve("token"));
    const fresh = openForm({ id: null });
    await syncNow(fresh.form);
    expect(fresh.notification(NotificationId.command)?.message).toBe("Save the opportunity before syncing it with Partner Center.");
    const off = openForm({ sync: false });
    configureRelaySignIn(() => Promise.resolve("token"));
    await syncNow(off.form);
    expect(off.notification(NotificationId.command)?.message).toBe("Turn on Sync with Partner Center and save before syncing.");
  });
});
