-- What the sync engine keeps besides 001's link: the Partner Center side's fingerprint (the reconciler
-- compares a listed referral with it), and what Microsoft's side of the engagement last showed.
ALTER TABLE links ADD COLUMN referral_fingerprint text;
ALTER TABLE links ADD COLUMN microsoft_status text;
ALTER TABLE links ADD COLUMN microsoft_substatus text;
ALTER TABLE links ADD COLUMN microsoft_msx_id text;
CREATE INDEX links_engagement ON links (tenant_id, engagement_id) WHERE engagement_id IS NOT NULL;
CREATE INDEX links_microsoft_referral ON links (tenant_id, microsoft_referral_id) WHERE microsoft_referral_id IS NOT NULL;
