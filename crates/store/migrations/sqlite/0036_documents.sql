-- 材料 (documents, issue 15 item 3): photos and PDFs attached to a case or a household. The
-- bytes are the stored form — an image re-encoded without its metadata (EXIF, GPS), a PDF as
-- sent — with their SHA-256 (`content_hash`) and, for an image, a small thumbnail. A row is
-- never deleted nor its bytes changed: a document taken back is marked withdrawn, and documents
-- stay when the case closes. `area_code` is the case's or household's, for the access check.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    case_id BIGINT REFERENCES cases (id),
    household_id BIGINT REFERENCES households (id),
    area_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    content BLOB NOT NULL,
    thumbnail BLOB,
    uploaded_by BIGINT NOT NULL,
    uploaded_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawn_by BIGINT,
    withdrawn_reason TEXT,
    CHECK (case_id IS NOT NULL OR household_id IS NOT NULL)
);
CREATE INDEX documents_case ON documents (case_id, id);
CREATE INDEX documents_household ON documents (household_id, id);
