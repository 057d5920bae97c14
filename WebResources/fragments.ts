// The XML the lead pastes into Solution/ to register the form library, written from the names the
// library really exports, so the two cannot drift apart. `node WebResources/fragments.ts` rewrites
// WebResources/solution-fragments.md; a test fails when that file is out of date.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Forms, Opportunity, Solution } from "../Core/generated/schema.ts";
import { GLOBAL_NAME, WEB_RESOURCE_NAME } from "./src/names.ts";
import type { Lead as LeadApi, Opportunity as OpportunityApi } from "./src/index.ts";

export const FRAGMENTS_PATH = join(dirname(fileURLToPath(import.meta.url)), "solution-fragments.md");

/** Stable ids: they are the components' identity across solution upgrades. Never regenerate them. */
const Ids = {
  webResource: "5bb0e32e-6232-42a6-b5fb-ae907a08ea6e",
  library: "db5e769a-2bf7-4eb2-af30-b2875db584c0",
  onLoad: "ff3cf6e7-a071-4163-93d0-5b16a4fe3fea",
  onSave: "1c0c14c4-95f4-46de-aeb9-208eb71ea7f4",
  onHelpRequestedChange: "86b96619-eb22-44e5-9e1f-b727f9acec95",
  onSyncChange: "5e075ab7-2730-4171-89c9-f672173fdeb9",
  onReferralVisibilityChange: "be43cdbf-d8c7-4410-b5da-ac257e7d52e7",
  leadLibrary: "11d7eef2-f0af-5989-ad73-1a0d4b742cb1",
  leadOnLoad: "0ef8365b-7cb9-5053-9cb9-f29ccda761ae",
} as const;

export const opportunityFunction = (name: keyof typeof OpportunityApi): string => `${GLOBAL_NAME}.Opportunity.${name}`;
export const leadFunction = (name: keyof typeof LeadApi): string => `${GLOBAL_NAME}.Lead.${name}`;

export interface FormHandler {
  event: "onload" | "onsave" | "onchange";
  attribute?: string;
  functionName: string;
  handlerUniqueId: string;
}

/** The opportunity main form's handlers, in the order they appear in the form XML. */
export const OPPORTUNITY_FORM_HANDLERS: readonly FormHandler[] = [
  { event: "onload", functionName: opportunityFunction("onLoad"), handlerUniqueId: Ids.onLoad },
  { event: "onsave", functionName: opportunityFunction("onSave"), handlerUniqueId: Ids.onSave },
  { event: "onchange", attribute: Opportunity.columns.helpRequested, functionName: opportunityFunction("onHelpRequestedChange"), handlerUniqueId: Ids.onHelpRequestedChange },
  { event: "onchange", attribute: Opportunity.columns.syncWithPartnerCenter, functionName: opportunityFunction("onSyncChange"), handlerUniqueId: Ids.onSyncChange },
  { event: "onchange", attribute: Opportunity.columns.referralVisibility, functionName: opportunityFunction("onReferralVisibilityChange"), handlerUniqueId: Ids.onReferralVisibilityChange },
];

/** The lead main form's handlers (its library reference has its own id: leadLibrary). */
export const LEAD_FORM_HANDLERS: readonly FormHandler[] = [
  { event: "onload", functionName: leadFunction("onLoad"), handlerUniqueId: Ids.leadOnLoad },
];

export interface RibbonCommand {
  key: string;
  action: string;
  enableRule: string;
  sequence: number;
  label: { 1033: string; 1043: string };
  tooltip: { 1033: string; 1043: string };
}

export const RIBBON_COMMANDS: readonly RibbonCommand[] = [
  {
    key: "OpenInPartnerCenter",
    action: opportunityFunction("openInPartnerCenter"),
    enableRule: opportunityFunction("isOpenInPartnerCenterEnabled"),
    sequence: 900,
    label: { 1033: "Open in Partner Center", 1043: "Openen in Partner Center" },
    tooltip: {
      1033: "Open this deal's referral in Microsoft Partner Center.",
      1043: "Open de verwijzing van deze deal in Microsoft Partner Center.",
    },
  },
  {
    key: "SyncNow",
    action: opportunityFunction("syncNow"),
    enableRule: opportunityFunction("isSyncNowEnabled"),
    sequence: 910,
    label: { 1033: "Sync now", 1043: "Nu synchroniseren" },
    tooltip: {
      1033: "Sync this opportunity with Partner Center now, without waiting for the next change.",
      1043: "Synchroniseer deze verkoopkans nu met Partner Center, zonder op de volgende wijziging te wachten.",
    },
  },
];

/** Text as an XML attribute value. */
const attr = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");

/** The solution version that first ships the library (an IntroducedVersion never changes afterwards). */
const INTRODUCED_VERSION = "0.1.0.0";

const indent = (text: string, spaces: number): string => text.split("\n").map((line) => (line ? " ".repeat(spaces) + line : line)).join("\n");

export function formLibrariesXml(): string {
  return [
    `<formLibraries solutionaction="Added">`,
    `  <Library name="${WEB_RESOURCE_NAME}" libraryUniqueId="{${Ids.library}}" />`,
    `</formLibraries>`,
  ].join("\n");
}

export function formEventsXml(): string {
  const events = OPPORTUNITY_FORM_HANDLERS.map((handler) => [
    `<event name="${handler.event}" application="false" active="false"${handler.attribute ? ` attribute="${handler.attribute}"` : ""}>`,
    `  <Handlers>`,
    `    <Handler functionName="${handler.functionName}" libraryName="${WEB_RESOURCE_NAME}" handlerUniqueId="{${handler.handlerUniqueId}}" enabled="true" parameters="" passExecutionContext="true" />`,
    `  </Handlers>`,
    `</event>`,
  ].join("\n"));
  return [`<events>`, ...events.map((e) => indent(e, 2)), `</events>`].join("\n");
}

const ribbonId = (command: RibbonCommand, part: string): string => `${Solution.prefix}.${Opportunity.logicalName}.${command.key}.${part}`;
const LOCATION = `Mscrm.Form.${Opportunity.logicalName}.MainTab.Actions.Controls._children`;

export function ribbonDiffXml(): string {
  const library = `$webresource:${WEB_RESOURCE_NAME}`;
  const customActions = RIBBON_COMMANDS.map((command) => [
    `<CustomAction Id="${ribbonId(command, "CustomAction")}" Location="${LOCATION}" Sequence="${command.sequence}">`,
    `  <CommandUIDefinition>`,
    `    <Button Id="${ribbonId(command, "Button")}" Command="${ribbonId(command, "Command")}" Sequence="${command.sequence}" TemplateAlias="o1"`,
    `            LabelText="$LocLabels:${ribbonId(command, "LabelText")}" Alt="$LocLabels:${ribbonId(command, "LabelText")}"`,
    `            ToolTipTitle="$LocLabels:${ribbonId(command, "LabelText")}" ToolTipDescription="$LocLabels:${ribbonId(command, "ToolTip")}" />`,
    `  </CommandUIDefinition>`,
    `</CustomAction>`,
  ].join("\n"));
  const commandDefinitions = RIBBON_COMMANDS.map((command) => [
    `<CommandDefinition Id="${ribbonId(command, "Command")}">`,
    `  <EnableRules>`,
    `    <EnableRule Id="${ribbonId(command, "EnableRule")}" />`,
    `  </EnableRules>`,
    `  <DisplayRules />`,
    `  <Actions>`,
    `    <JavaScriptFunction Library="${library}" FunctionName="${command.action}">`,
    `      <CrmParameter Value="PrimaryControl" />`,
    `    </JavaScriptFunction>`,
    `  </Actions>`,
    `</CommandDefinition>`,
  ].join("\n"));
  const enableRules = RIBBON_COMMANDS.map((command) => [
    `<EnableRule Id="${ribbonId(command, "EnableRule")}">`,
    `  <CustomRule Library="${library}" FunctionName="${command.enableRule}" Default="false">`,
    `    <CrmParameter Value="PrimaryControl" />`,
    `  </CustomRule>`,
    `</EnableRule>`,
  ].join("\n"));
  const locLabel = (id: string, text: { 1033: string; 1043: string }): string => [
    `<LocLabel Id="${id}">`,
    `  <Titles>`,
    `    <Title description="${attr(text[1033])}" languagecode="1033" />`,
    `    <Title description="${attr(text[1043])}" languagecode="1043" />`,
    `  </Titles>`,
    `</LocLabel>`,
  ].join("\n");
  const locLabels = RIBBON_COMMANDS.flatMap((command) => [locLabel(ribbonId(command, "LabelText"), command.label), locLabel(ribbonId(command, "ToolTip"), command.tooltip)]);
  return [
    `<RibbonDiffXml>`,
    `  <CustomActions>`,
    ...customActions.map((x) => indent(x, 4)),
    `  </CustomActions>`,
    `  <Templates>`,
    `    <RibbonTemplates Id="Mscrm.Templates" />`,
    `  </Templates>`,
    `  <CommandDefinitions>`,
    ...commandDefinitions.map((x) => indent(x, 4)),
    `  </CommandDefinitions>`,
    `  <RuleDefinitions>`,
    `    <TabDisplayRules />`,
    `    <DisplayRules />`,
    `    <EnableRules>`,
    ...enableRules.map((x) => indent(x, 6)),
    `    </EnableRules>`,
    `  </RuleDefinitions>`,
    `  <LocLabels>`,
    ...locLabels.map((x) => indent(x, 4)),
    `  </LocLabels>`,
    `</RibbonDiffXml>`,
  ].join("\n");
}

/** Dataverse's file name for a web resource in the zip (shared/docs/dataverse.md §7). */
export function webResourceFileName(): string {
  return `/WebResources/${WEB_RESOURCE_NAME.replace(/[^A-Za-z0-9_-]/g, "")}${Ids.webResource.toUpperCase()}`;
}

export function webResourceDataXml(): string {
  return [
    `<WebResource xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
    `  <WebResourceId>{${Ids.webResource}}</WebResourceId>`,
    `  <Name>${WEB_RESOURCE_NAME}</Name>`,
    `  <DisplayName>Partner Center form library</DisplayName>`,
    `  <WebResourceType>3</WebResourceType>`,
    `  <IntroducedVersion>${INTRODUCED_VERSION}</IntroducedVersion>`,
    `  <IsEnabledForMobileClient>0</IsEnabledForMobileClient>`,
    `  <IsAvailableForMobileOffline>0</IsAvailableForMobileOffline>`,
    `  <IsCustomizable>1</IsCustomizable>`,
    `  <CanBeDeleted>1</CanBeDeleted>`,
    `  <IsHidden>0</IsHidden>`,
    `  <FileName>${webResourceFileName()}</FileName>`,
    `</WebResource>`,
  ].join("\n");
}

const xmlBlock = (xml: string): string => ["```xml", xml, "```"].join("\n");

export function fragmentsMarkdown(): string {
  const form = Forms.opportunityMain;
  return `# Solution fragments for the form library

Generated by \`node WebResources/fragments.ts\` from the names the library exports (\`WebResources/fragments.ts\`);
\`WebResources/test/fragments.test.ts\` fails when this file is out of date. Do not edit it by hand.
Formats: shared/docs/dataverse.md §6.4 (form libraries and handlers) and §7 (web resources); the ribbon XML
is **composed** (never imported yet): check it with one import into a development environment.

The library: \`${WEB_RESOURCE_NAME}\` (JScript), built by \`node WebResources/build.ts\` into
\`out/webresources/${WEB_RESOURCE_NAME}\`. It assigns one global, \`${GLOBAL_NAME}\`.

## (a) Opportunity main form: library and event handlers

In \`Solution/Entities/Opportunity/FormXml/main/{${form.formId}}.xml\`, inside \`<form>\`, after \`</tabs>\`
and before \`<controlDescriptions>\` (the order Dataverse exports: tabs, events, formLibraries,
controlDescriptions).

${xmlBlock(formEventsXml())}

${xmlBlock(formLibrariesXml())}

- \`passExecutionContext="true"\` on every handler: the functions read the form from the execution context.
- The handlers that keep the deal facts fresh are not in the XML: \`onLoad\` adds them itself (OnChange of
  \`parentaccountid\`, \`parentcontactid\` and \`transactioncurrencyid\`, OnLoad of the Microsoft Solutions
  subgrid, and the form's data OnLoad after a save or refresh). Do not register those again.
- \`onLoad\` returns a promise that resolves once the facts are read ahead; with "async OnLoad" switched on
  in the app, the form waits for it (at most 10 s), otherwise it runs in the background. It never rejects.
- Lead main form (\`Solution/Entities/Lead/FormXml/main/{${Forms.leadMain.formId}}.xml\`, which carries it):
  \`${leadFunction("onLoad")}\` as the form's only handler (OnLoad, \`passExecutionContext="true"\`,
  handlerUniqueId \`{${Ids.leadOnLoad}}\`), same library (libraryUniqueId \`{${Ids.leadLibrary}}\`). Its ribbon can use
  \`${leadFunction("openInPartnerCenter")}\` / \`${leadFunction("isOpenInPartnerCenterEnabled")}\`.

## (b) Opportunity command bar: Open in Partner Center and Sync now

\`Solution/Entities/Opportunity/RibbonDiff.xml\` (replacing the empty \`<RibbonDiffXml />\` the table may carry):

${xmlBlock(ribbonDiffXml())}

- The buttons carry no icon: add \`ModernImage="…"\` (an SVG web resource) if wanted.
- Both enable rules are synchronous and read only the form. \`onSyncChange\` calls
  \`formContext.ui.refreshRibbon()\` so Sync now's state follows the Sync column at once.

## (c) The web resource itself

\`Solution/WebResources/${WEB_RESOURCE_NAME}.data.xml\`, with the built file next to it at
\`Solution/WebResources/${WEB_RESOURCE_NAME}\` (copied from \`out/webresources/\`, or mapped as the card is):

${xmlBlock(webResourceDataXml())}

and in \`Solution/Other/Solution.xml\` \`<RootComponents>\`:

${xmlBlock(`<RootComponent type="61" schemaName="${WEB_RESOURCE_NAME}" behavior="0" />`)}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(FRAGMENTS_PATH, fragmentsMarkdown());
  console.log(`wrote ${FRAGMENTS_PATH}`);
}
