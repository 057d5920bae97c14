// Hosts the control the way a model-driven form does, inside React Testing Library: init, updateView,
// render the returned element, and on notifyOutputChanged take getOutputs into the bound columns and
// call updateView again.
import { jest } from "@jest/globals";
import { render, type RenderResult } from "@testing-library/react";
import { PartnerCenterCard } from "../index.ts";
import type { IOutputs } from "../generated/ManifestTypes";
import { LEAD_ID, leadParameters, NOW, parameters, seedLeadWebApi, seedWebApi, type CardValues, type DealSeed, type LeadValues } from "./fixtures.ts";
import { createRelayFake, MockContext, MockNavigation, type ContextOptions, type RelayScript } from "./mocks.ts";
import { loadStrings } from "./strings.ts";

export interface MountOptions extends Omit<Partial<ContextOptions>, "parameters" | "strings"> {
  values?: CardValues;
  seed?: DealSeed;
  /** Lead mode: the card on the lead form with these values (and the lead in the Web API fake). */
  lead?: LeadValues;
  relay?: RelayScript;
  getAccessToken?: () => Promise<string>;
}

export interface Mounted extends RenderResult {
  control: PartnerCenterCard;
  context: MockContext;
  navigation: MockNavigation;
  relay: ReturnType<typeof createRelayFake>;
  outputs: IOutputs[];
  notify: jest.Mock<() => void>;
  /** Calls updateView and renders what it returns, as the platform does after any change. */
  update(change?: (context: MockContext) => void): void;
  /** Unmounts the element and calls destroy, as the platform does when the form closes. */
  close(): void;
}

export function mount(options: MountOptions = {}): Mounted {
  const languageId = options.languageId ?? 1033;
  const navigation = options.navigation ?? new MockNavigation();
  const lead = options.lead;
  const context = new MockContext({
    ...(lead ? { entityTypeName: "lead", entityId: `{${LEAD_ID.toUpperCase()}}`, entityRecordName: "Fabrikam: Azure landing zone" } : {}),
    ...options,
    navigation,
    webAPI: options.webAPI === undefined ? (lead ? seedLeadWebApi() : seedWebApi(options.seed)) : options.webAPI,
    parameters: lead ? leadParameters(lead) : parameters(options.values),
    strings: loadStrings(languageId === 1043 ? 1043 : 1033),
    languageId,
  });
  const relay = createRelayFake(options.relay);
  const control = new PartnerCenterCard({
    getAccessToken: options.getAccessToken ?? (() => Promise.resolve("token-for-sam")),
    fetch: relay.fetch,
    polling: { firstIntervalMs: 1, maxIntervalMs: 1, timeoutMs: 2000 },
    now: () => NOW,
  });
  const outputs: IOutputs[] = [];
  let result: RenderResult | null = null;
  const update = (change?: (context: MockContext) => void): void => {
    change?.(context);
    result!.rerender(control.updateView(context));
  };
  const notify = jest.fn(() => {
    const out = control.getOutputs();
    outputs.push(out);
    const bag = context.parameters as unknown as Record<string, { raw: unknown }>;
    for (const [name, value] of Object.entries(out)) bag[name]!.raw = value ?? null;
    context.updatedProperties = Object.keys(out);
    update();
  });
  control.init(context, notify, {});
  result = render(control.updateView(context));
  return {
    ...result,
    control,
    context,
    navigation,
    relay,
    outputs,
    notify,
    update,
    close: () => {
      result!.unmount();
      control.destroy();
    },
  };
}
