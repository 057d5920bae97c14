// The RemoteExecutionContext of dataverse.md §8.4 (Microsoft's example of an asynchronous post-operation
// Update of a contact), as the raw text Dataverse posts: DataContract JSON escapes `/` as `\/`. The
// doc trims ParentContext ("…same shape, Stage 30…"); it is filled in here in that shape.
export const DOCUMENTED_SAMPLE = String.raw`{
  "BusinessUnitId": "e2b9dd85-e89e-e711-8122-000d3aa2331c",
  "CorrelationId": "b374239d-4233-41a9-8b17-a86cb4f737b5",
  "Depth": 1,
  "InitiatingUserId": "75c2dd85-e89e-e711-8122-000d3aa2331c",
  "InputParameters": [{
    "key": "Target",
    "value": {
      "__type": "Entity:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts",
      "Attributes": [
        { "key": "firstname", "value": "James" },
        { "key": "contactid", "value": "6d81597f-0f9f-e711-8122-000d3aa2331c" },
        { "key": "modifiedon", "value": "\/Date(1506384247000)\/" },
        { "key": "modifiedby", "value": {
            "__type": "EntityReference:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts",
            "Id": "75c2dd85-e89e-e711-8122-000d3aa2331c", "KeyAttributes": [],
            "LogicalName": "systemuser", "Name": null, "RowVersion": null } },
        { "key": "modifiedonbehalfby", "value": null }
      ],
      "EntityState": null, "FormattedValues": [],
      "Id": "6d81597f-0f9f-e711-8122-000d3aa2331c", "KeyAttributes": [],
      "LogicalName": "contact", "RelatedEntities": [], "RowVersion": null
    }
  }],
  "IsExecutingOffline": false, "IsInTransaction": false, "IsOfflinePlayback": false,
  "IsolationMode": 1, "MessageName": "Update", "Mode": 1,
  "OperationCreatedOn": "\/Date(1506409448000-0700)\/",
  "OperationId": "4af10637-4ea2-e711-8122-000d3aa2331c",
  "OrganizationId": "4ef5b371-e89e-e711-8122-000d3aa2331c", "OrganizationName": "OrgName",
  "OutputParameters": [],
  "OwningExtension": { "Id": "75417616-4ea2-e711-8122-000d3aa2331c", "KeyAttributes": [],
                       "LogicalName": "sdkmessageprocessingstep", "Name": null, "RowVersion": null },
  "ParentContext": {
    "BusinessUnitId": "e2b9dd85-e89e-e711-8122-000d3aa2331c",
    "CorrelationId": "b374239d-4233-41a9-8b17-a86cb4f737b5",
    "Depth": 1,
    "InitiatingUserId": "75c2dd85-e89e-e711-8122-000d3aa2331c",
    "InputParameters": [
      { "key": "Target", "value": { "__type": "Entity:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts",
        "Attributes": [{ "key": "firstname", "value": "James" }, { "key": "contactid", "value": "6d81597f-0f9f-e711-8122-000d3aa2331c" }],
        "EntityState": null, "FormattedValues": [], "Id": "6d81597f-0f9f-e711-8122-000d3aa2331c", "KeyAttributes": [],
        "LogicalName": "contact", "RelatedEntities": [], "RowVersion": null } },
      { "key": "SuppressDuplicateDetection", "value": false }
    ],
    "IsExecutingOffline": false, "IsInTransaction": true, "IsOfflinePlayback": false,
    "IsolationMode": 1, "MessageName": "Update", "Mode": 0,
    "OperationCreatedOn": "\/Date(1506409448000-0700)\/",
    "OperationId": "00000000-0000-0000-0000-000000000000",
    "OrganizationId": "4ef5b371-e89e-e711-8122-000d3aa2331c", "OrganizationName": "OrgName",
    "OutputParameters": [], "OwningExtension": null, "ParentContext": null,
    "PostEntityImages": [], "PreEntityImages": [],
    "PrimaryEntityId": "6d81597f-0f9f-e711-8122-000d3aa2331c", "PrimaryEntityName": "contact",
    "RequestId": null, "SecondaryEntityName": "none", "SharedVariables": [],
    "Stage": 30, "UserId": "75c2dd85-e89e-e711-8122-000d3aa2331c"
  },
  "PostEntityImages": [{ "key": "AsynchronousStepPrimaryName", "value": { "Attributes": [
      { "key": "fullname", "value": "James Glynn (sample)" },
      { "key": "contactid", "value": "6d81597f-0f9f-e711-8122-000d3aa2331c" } ],
      "EntityState": null, "FormattedValues": [], "Id": "6d81597f-0f9f-e711-8122-000d3aa2331c",
      "KeyAttributes": [], "LogicalName": "contact", "RelatedEntities": [], "RowVersion": null } }],
  "PreEntityImages": [],
  "PrimaryEntityId": "6d81597f-0f9f-e711-8122-000d3aa2331c",
  "PrimaryEntityName": "contact",
  "RequestId": null, "SecondaryEntityName": "none", "SharedVariables": [],
  "Stage": 40, "UserId": "75c2dd85-e89e-e711-8122-000d3aa2331c"
}`;
