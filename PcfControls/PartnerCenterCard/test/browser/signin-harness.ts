// Runs in the page of the sign-in browser test (Relay/test/client-api/sign-in.browser.test.ts), before the
// real bundle.js: plays the model-driven runtime like harness.ts, with two differences that make it the
// whole chain. Nothing is injected into the card: it signs the seller in itself (services/signIn.ts loads
// pcr_/signin/msal.js from the org and asks the relay's GET /api/sign-in). And context.webAPI is the org's
// own Web API over HTTP (/api/data/v9.2 on this origin), not an in-memory fake: the environment variable,
// the opportunity and the user's systemuser row are real Dataverse sandbox rows.
import type { ReactElement } from "react";
import type { Theme } from "@fluentui/react-components";
import { MicrosoftSolution, Opportunity, SyncEvent } from "../../../../Core/generated/schema.ts";
import type { CardOptions, PartnerCenterCard } from "../../index.ts";
import { parameters, type CardValues } from "../fixtures.ts";
import { MockContext } from "../mocks.ts";

type CardConstructor = new (options?: CardOptions) => PartnerCenterCard;
type Entity = ComponentFramework.WebApi.Entity;

interface PlatformWindow {
  ReactDOM: { render(element: ReactElement, container: Element): void; unmountComponentAtNode(container: Element): boolean };
  FluentUIReactv940: { webLightTheme: Theme };
  ComponentFramework: { registerControl(name: string, control: CardConstructor): void };
  SignInHarness: SignInHarness;
  cardStrings: Record<string, Record<string, string>>;
}

export interface SignInMountOptions {
  opportunityId: string;
  opportunityName: string;
  /** The signed-in Dynamics user's systemuserid (Xrm's userSettings.userId). */
  userId: string;
  userName: string;
  values?: CardValues;
}

export interface SignInHarness {
  mount(options: SignInMountOptions): void;
}

const ENTITY_SETS: Record<string, string> = {
  [Opportunity.logicalName]: Opportunity.entitySetName,
  [MicrosoftSolution.logicalName]: MicrosoftSolution.entitySetName,
  [SyncEvent.logicalName]: SyncEvent.entitySetName,
  systemuser: "systemusers",
  environmentvariabledefinition: "environmentvariabledefinitions",
};

/** Dataverse's error body as Xrm.WebApi rejects with it: { errorCode, message }. */
async function failure(response: Response): Promise<{ errorCode: number; message: string }> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  return { errorCode: Number.parseInt(body.error?.code ?? "0", 16) || response.status, message: body.error?.message ?? `HTTP ${response.status}` };
}

/** context.webAPI's reads over the org's Web API, as the platform implements them (same origin, the user's session). */
class OrgWebApi {
  private async get(path: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const response = await fetch(`${window.location.origin}/api/data/v9.2/${path}`, {
      headers: { Accept: "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0", Prefer: 'odata.include-annotations="*"', ...headers },
    });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as Record<string, unknown>;
  }

  private set(entityType: string): string {
    const set = ENTITY_SETS[entityType];
    if (!set) throw new Error(`the sign-in harness does not know the entity set of ${entityType}`);
    return set;
  }

  retrieveRecord(entityType: string, id: string, options = ""): Promise<Entity> {
    return this.get(`${this.set(entityType)}(${id.replace(/[{}]/g, "")})${options}`);
  }

  async retrieveMultipleRecords(entityType: string, options = "", maxPageSize?: number): Promise<ComponentFramework.WebApi.RetrieveMultipleResponse> {
    const body = await this.get(`${this.set(entityType)}${options}`, maxPageSize ? { Prefer: `odata.include-annotations="*",odata.maxpagesize=${maxPageSize}` } : {});
    return { entities: (body.value as Entity[]) ?? [], nextLink: String(body["@odata.nextLink"] ?? "") };
  }

  createRecord(): Promise<ComponentFramework.LookupValue> {
    throw new Error("the card does not create records");
  }
  updateRecord(): Promise<ComponentFramework.LookupValue> {
    throw new Error("the card does not update records on an opportunity form");
  }
  deleteRecord(): Promise<ComponentFramework.LookupValue> {
    throw new Error("the card does not delete records");
  }
}

const platform = window as unknown as PlatformWindow;
const registry = new Map<string, CardConstructor>();
platform.ComponentFramework = { registerControl: (name, control) => void registry.set(name, control) };

platform.SignInHarness = {
  mount(options) {
    const Card = registry.get("CoSellRelay.PartnerCenterCard");
    if (!Card) throw new Error("bundle.js did not register CoSellRelay.PartnerCenterCard");
    const context = new MockContext({
      parameters: parameters(options.values),
      strings: platform.cardStrings["1033"]!,
      languageId: 1033,
      webAPI: null,
      entityId: `{${options.opportunityId.toUpperCase()}}`,
      entityRecordName: options.opportunityName,
      allocatedWidth: 880,
    });
    context.webAPI = new OrgWebApi() as unknown as ComponentFramework.WebApi;
    context.userSettings.userId = `{${options.userId.toUpperCase()}}`;
    context.userSettings.userName = options.userName;
    const theme = { ...platform.FluentUIReactv940.webLightTheme, fontFamilyBase: "'Segoe UI', 'Liberation Sans', Arial, sans-serif" };
    (context as unknown as { fluentDesignLanguage: unknown }).fluentDesignLanguage = { tokenTheme: theme, brand: {}, isDarkTheme: false };

    const container = document.getElementById("card")!;
    container.setAttribute("style", "width: 880px");
    // As Dynamics builds it: nothing injected but a quicker poll of the run.
    const control = new Card({ polling: { firstIntervalMs: 200, maxIntervalMs: 500, timeoutMs: 60_000 } });
    const render = (): void => platform.ReactDOM.render(control.updateView(context), container);
    control.init(context, () => {
      const bag = context.parameters as unknown as Record<string, { raw: unknown }>;
      for (const [name, value] of Object.entries(control.getOutputs())) bag[name]!.raw = value ?? null;
      render();
    }, {});
    render();
  },
};
