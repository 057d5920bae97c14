/*
*This is auto generated from the ControlManifest.Input.xml file
*/

// Define IInputs and IOutputs Type. They should match with ControlManifest.
export interface IInputs {
    syncWithPartnerCenter: ComponentFramework.PropertyTypes.TwoOptionsProperty;
    helpRequested: ComponentFramework.PropertyTypes.OptionSetProperty;
    referralVisibility: ComponentFramework.PropertyTypes.TwoOptionsProperty;
    referralLink: ComponentFramework.PropertyTypes.StringProperty;
    syncStatus: ComponentFramework.PropertyTypes.OptionSetProperty;
    lastSyncedOn: ComponentFramework.PropertyTypes.DateTimeProperty;
    lastSyncError: ComponentFramework.PropertyTypes.StringProperty;
    microsoftStatus: ComponentFramework.PropertyTypes.OptionSetProperty;
    microsoftSubstatus: ComponentFramework.PropertyTypes.OptionSetProperty;
    microsoftCrmIdentifier: ComponentFramework.PropertyTypes.StringProperty;
    respondBy: ComponentFramework.PropertyTypes.DateTimeProperty;
    sentBy: ComponentFramework.PropertyTypes.StringProperty;
    referralStatus: ComponentFramework.PropertyTypes.OptionSetProperty;
    referralSubstatus: ComponentFramework.PropertyTypes.OptionSetProperty;
    relayUrl: ComponentFramework.PropertyTypes.StringProperty;
    historySize: ComponentFramework.PropertyTypes.WholeNumberProperty;
}
export interface IOutputs {
    syncWithPartnerCenter?: boolean;
    helpRequested?: number;
    referralVisibility?: boolean;
    referralLink?: string;
    syncStatus?: number;
    lastSyncedOn?: Date;
    lastSyncError?: string;
    microsoftStatus?: number;
    microsoftSubstatus?: number;
    microsoftCrmIdentifier?: string;
    respondBy?: Date;
    sentBy?: string;
    referralStatus?: number;
    referralSubstatus?: number;
}
