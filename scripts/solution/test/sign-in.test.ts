// The seller's sign-in ships in both zips: the redirect page (the SPA redirect URI
// https://<org>/WebResources/pcr_/signin/redirect.html), its bridge script, and msal-browser, which the
// card and the form library load on demand.
import { buildZips } from "./helpers.ts";
import { child, descendants, parseXml } from "../xml.ts";
import { MSAL_GLOBAL } from "../../../PcfControls/PartnerCenterCard/services/signIn.ts";
import { SIGN_IN_REDIRECT_PATH } from "../../../Sandbox/shared/demo-tenant.ts";

test("the sign-in's redirect page, its script and msal-browser are web resources in both zips, and root components", async () => {
  const zips = await buildZips();
  const folder = SIGN_IN_REDIRECT_PATH.replace(/^\/WebResources\//, "").replace(/redirect\.html$/, "");
  for (const zip of [zips.managedZip, zips.unmanagedZip]) {
    const customizations = parseXml(await zip.file("customizations.xml")!.async("string"), "customizations.xml");
    const resources = new Map(descendants(customizations, "WebResource").map((w) => [child(w, "Name")!.textContent!, {
      type: child(w, "WebResourceType")!.textContent, path: child(w, "FileName")!.textContent!.replace(/^\//, ""),
    }]));
    const read = async (name: string): Promise<string> => {
      const resource = resources.get(name);
      expect({ name, registered: Boolean(resource) }).toEqual({ name, registered: true });
      const file = zip.file(resource!.path);
      expect({ name, inZip: Boolean(file) }).toEqual({ name, inZip: true });
      return file!.async("string");
    };
    const page = await read(`${folder}redirect.html`);
    expect(resources.get(`${folder}redirect.html`)!.type).toBe("1");
    // The page loads its script by a relative path: /WebResources/<prefix>_/signin/redirect.js on the org.
    expect(page).toContain('<script src="redirect.js"></script>');
    expect(await read(`${folder}redirect.js`)).toContain("BroadcastChannel");
    expect(await read(`${folder}msal.js`)).toContain(MSAL_GLOBAL);

    const manifest = parseXml(await zip.file("solution.xml")!.async("string"), "solution.xml");
    const roots = descendants(manifest, "RootComponent").filter((r) => r.getAttribute("type") === "61").map((r) => r.getAttribute("schemaName"));
    expect(roots).toEqual(expect.arrayContaining([`${folder}redirect.html`, `${folder}redirect.js`, `${folder}msal.js`]));
  }
});
