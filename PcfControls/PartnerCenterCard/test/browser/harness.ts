// Runs in the browser page, before the real bundle.js: plays the model-driven runtime's part. It takes
// the registration bundle.js makes (ComponentFramework.registerControl), builds a context from the same
// mocks the Jest tests use, and renders what updateView returns with the platform's ReactDOM.
import type { ReactElement } from "react";
import type { Theme } from "@fluentui/react-components";
import type { CardOptions, PartnerCenterCard } from "../../index.ts";
import { LEAD_ID, LEAD_SCENARIOS, leadParameters, NOW, parameters, SCENARIOS, seedLeadWebApi, seedWebApi, type CardValues, type DealSeed, type ScenarioName } from "../fixtures.ts";
import { MockContext, type MetadataCatalog } from "../mocks.ts";

type CardConstructor = new (options?: CardOptions) => PartnerCenterCard;

interface PlatformWindow {
  ReactDOM: { render(element: ReactElement, container: Element): void; unmountComponentAtNode(container: Element): boolean };
  FluentUIReactv940: { webLightTheme: Theme };
  ComponentFramework: { registerControl(name: string, control: CardConstructor): void };
  PartnerCenterHarness: Harness;
  cardStrings: Record<string, Record<string, string>>;
  cardOutputs: unknown[];
}

export interface MountOptions {
  scenario: ScenarioName;
  /** Lead mode: the card on the lead form in this state (the opportunity scenario is then ignored). */
  lead?: keyof typeof LEAD_SCENARIOS;
  language?: 1033 | 1043;
  width?: number;
  formFactor?: number;
  disabled?: boolean;
  values?: Partial<CardValues>;
  seed?: Partial<DealSeed>;
  /** What context.utils.getEntityMetadata knows (default: the standard tables). */
  metadata?: MetadataCatalog;
}

export interface Harness {
  registered(): string[];
  mount(options: MountOptions): void;
  unmount(): void;
}

const platform = window as unknown as PlatformWindow;
const registry = new Map<string, CardConstructor>();
platform.ComponentFramework = { registerControl: (name, control) => void registry.set(name, control) };
platform.cardOutputs = [];

let current: { control: PartnerCenterCard; container: Element } | null = null;

platform.PartnerCenterHarness = {
  registered: () => [...registry.keys()],

  mount(options) {
    this.unmount();
    const Card = registry.get("CoSellRelay.PartnerCenterCard");
    if (!Card) throw new Error("bundle.js did not register CoSellRelay.PartnerCenterCard");
    const scenario = SCENARIOS[options.scenario];
    const language = options.language ?? 1033;
    const lead = options.lead ? LEAD_SCENARIOS[options.lead] : null;
    const context = new MockContext({
      parameters: lead ? leadParameters(lead) : parameters({ ...scenario.values, ...options.values }),
      strings: platform.cardStrings[String(language)]!,
      languageId: language,
      webAPI: lead ? seedLeadWebApi() : seedWebApi({ ...scenario.seed, ...options.seed }),
      ...(lead ? { entityTypeName: "lead", entityId: LEAD_ID, entityRecordName: "Fabrikam: Azure landing zone" } : {}),
      allocatedWidth: options.width ?? 880,
      formFactor: options.formFactor ?? 1,
      isControlDisabled: options.disabled ?? false,
      ...(options.metadata ? { metadata: options.metadata } : {}),
    });
    // The platform hands virtual controls its Fluent theme; Segoe UI is not on Linux, Liberation Sans has its metrics.
    const theme = { ...platform.FluentUIReactv940.webLightTheme, fontFamilyBase: "'Segoe UI', 'Liberation Sans', Arial, sans-serif" };
    (context as unknown as { fluentDesignLanguage: unknown }).fluentDesignLanguage = { tokenTheme: theme, brand: {}, isDarkTheme: false };

    const container = document.getElementById("card")!;
    container.setAttribute("style", `width: ${options.width ?? 880}px`);
    // Dynamics builds the control with `new`, without arguments; only the token source is injected here.
    // The fixtures' fixed "now", so the time left to answer a referral does not move.
    const control = new Card({ getAccessToken: () => Promise.resolve("browser-token"), polling: { firstIntervalMs: 150, maxIntervalMs: 300, timeoutMs: 20_000 }, now: () => NOW });
    const render = (): void => platform.ReactDOM.render(control.updateView(context), container);
    control.init(context, () => {
      const outputs = control.getOutputs();
      platform.cardOutputs.push(outputs);
      const bag = context.parameters as unknown as Record<string, { raw: unknown }>;
      for (const [name, value] of Object.entries(outputs)) bag[name]!.raw = value ?? null;
      render();
    }, {});
    render();
    current = { control, container };
  },

  unmount() {
    if (!current) return;
    platform.ReactDOM.unmountComponentAtNode(current.container);
    current.control.destroy();
    current = null;
  },
};
