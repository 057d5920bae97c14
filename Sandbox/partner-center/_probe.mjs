import * as p from "@odata/parser";
const strip = (n) => n && typeof n === "object" ? (Array.isArray(n) ? n.map(strip) : Object.fromEntries(Object.entries(n).filter(([k]) => !["position"].includes(k)).map(([k,v]) => [k, strip(v)]))) : n;
for (const f of ["team/any(t:t/email eq 'r2d2@contoso.com')", "customerProfile/address/country ne 'U''S'", "updatedDateTime gt 2024-01-01T00:00:00Z", "dealValue eq 10 and isSpam eq true and x eq null"]) {
  const ast = p.defaultParser.filter(f);
  console.log(JSON.stringify(strip(ast)));
}
try { p.defaultParser.filter("status eq"); } catch (e) { console.log("ERR", e.message); }
try { p.defaultParser.filter("status eq 'a' garbage"); } catch (e) { console.log("ERR", e.message); }
try { console.log(p.defaultParser.filter("startswith(name,'Con')").type); } catch (e) { console.log("ERR", e.message); }
