// The Partner Center card: a virtual PCF control. A thin adapter: updateView turns the context into the
// view's props (props.ts) and returns the memoised view; the platform renders it with its own React
// and Fluent UI (platform libraries), so neither is in bundle.js.
import * as React from "react";
import type { IInputs, IOutputs } from "./generated/ManifestTypes";
import { PartnerCenterCard as CardView } from "./components/PartnerCenterCard.tsx";
import { createServices, type CardOptions } from "./platform.ts";
import { readProps, readTexts } from "./props.ts";
import type { Texts } from "./constants.ts";
import type { CardChange, CardServices } from "./types.ts";

export type { CardOptions } from "./platform.ts";

export class PartnerCenterCard implements ComponentFramework.ReactControl<IInputs, IOutputs> {
  private readonly options: CardOptions;
  private readonly lifetime = new AbortController();
  private context: ComponentFramework.Context<IInputs> | null = null;
  private services: CardServices | null = null;
  private notifyOutputChanged: () => void = () => undefined;
  private outputs: IOutputs = {};
  private texts: { languageId: number; texts: Texts } | null = null;

  /** Dynamics calls `new PartnerCenterCard()`; tests and other hosts may inject options. */
  constructor(options: CardOptions = {}) {
    this.options = options;
  }

  public init(context: ComponentFramework.Context<IInputs>, notifyOutputChanged?: () => void, _state?: ComponentFramework.Dictionary): void {
    this.context = context;
    if (notifyOutputChanged) this.notifyOutputChanged = notifyOutputChanged;
    context.mode.trackContainerResize(true);
    this.services = createServices(() => this.context ?? context, this.options, this.lifetime.signal);
  }

  public updateView(context: ComponentFramework.Context<IInputs>): React.ReactElement {
    this.context = context;
    this.services ??= createServices(() => this.context ?? context, this.options, this.lifetime.signal);
    return React.createElement(CardView, readProps(context, this.textsFor(context), this.services, this.onChange));
  }

  public getOutputs(): IOutputs {
    const outputs = this.outputs;
    this.outputs = {};
    return outputs;
  }

  public destroy(): void {
    this.lifetime.abort();
    this.context = null;
  }

  private readonly onChange = (change: CardChange): void => {
    const next: IOutputs = { ...this.outputs };
    if (change.syncWithPartnerCenter !== undefined) next.syncWithPartnerCenter = change.syncWithPartnerCenter;
    if (change.referralVisibility !== undefined) next.referralVisibility = change.referralVisibility;
    // An OptionSet output of undefined clears the column.
    if ("helpRequested" in change) next.helpRequested = change.helpRequested ?? undefined;
    this.outputs = next;
    this.notifyOutputChanged();
  };

  /** The texts change only with the user's language: read them once per language, keep the object stable. */
  private textsFor(context: ComponentFramework.Context<IInputs>): Texts {
    const languageId = context.userSettings?.languageId ?? 1033;
    if (!this.texts || this.texts.languageId !== languageId) this.texts = { languageId, texts: readTexts(context.resources) };
    return this.texts.texts;
  }
}
