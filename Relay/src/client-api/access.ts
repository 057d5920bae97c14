// "A user may act only on records they can read in Dataverse": the relay retrieves the record through its
// application user while impersonating the signed-in user (header CallerObjectId = the token's oid,
// dataverse.md §9 "Other headers"), so Dataverse applies that user's security roles, business units and
// sharing. The relay's application user needs the Delegate role (prvActOnBehalfOfAnotherUser) for it.
import { DataverseError, retrieveRequest, type DataverseClient, type Row } from "../clients/dataverse.ts";
import { LeadTable, OpportunityTable } from "../sync/dataverse-columns.ts";
import type { RecordType } from "../sync/links.ts";

export type Access = "readable" | "not-found" | "forbidden";

const TABLES: Record<RecordType, { entitySet: string; id: string }> = {
  opportunity: { entitySet: OpportunityTable.entitySet, id: OpportunityTable.id },
  lead: { entitySet: LeadTable.entitySet, id: LeadTable.id },
};

/** Whether the user (Entra object id) can read the record: Dataverse answers 404 or 403 for a record they cannot. */
export async function userCanRead(dataverse: DataverseClient, type: RecordType, id: string, userObjectId: string): Promise<Access> {
  const table = TABLES[type];
  const base = retrieveRequest<Row>(table.entitySet, id, { select: [table.id], formattedValues: false });
  try {
    const row = await dataverse.send({ ...base, headers: { ...base.headers, CallerObjectId: userObjectId } });
    return row ? "readable" : "not-found";
  } catch (error) {
    // 403: no read access to this record (AccessCheckEx), or the user is not a member of the organization.
    if (error instanceof DataverseError && error.status === 403) return "forbidden";
    if (error instanceof DataverseError && error.status === 404) return "not-found";
    throw error;
  }
}
