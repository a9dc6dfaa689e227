-- Figures per place, kept as rollups so that no page counts rows: the subtree counts of each place, and per
-- registration round the 报到 figures of its subtree. Every write that moves a figure applies the change to the
-- place's ancestors in its own transaction (crates/store/src/stats.rs). A missing row means zeros.
CREATE TABLE place_stats (
    place_id BIGINT PRIMARY KEY REFERENCES places(id),
    -- direct child places
    children BIGINT NOT NULL DEFAULT 0,
    -- units located in this place and below
    units BIGINT NOT NULL DEFAULT 0,
    -- members living in this place and below
    members BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE place_round_stats (
    place_id BIGINT NOT NULL REFERENCES places(id),
    round_id BIGINT NOT NULL REFERENCES rounds(id),
    -- members living in this place and below with an accepted registration in the round
    registered BIGINT NOT NULL DEFAULT 0,
    -- units with an accepted 组团报到 in this place or below in the round (each unit once)
    units_registered BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (place_id, round_id)
);

-- The figures of the rows already there.
INSERT INTO place_stats (place_id, children, units, members)
SELECT p.id,
    (SELECT COUNT(*) FROM places c WHERE c.parent_id = p.id),
    (SELECT COUNT(*) FROM units u WHERE u.place_path >= p.path
        AND u.place_path < substr(p.path, 1, length(p.path) - 1) || '0'),
    (SELECT COUNT(*) FROM members m WHERE m.place_path >= p.path
        AND m.place_path < substr(p.path, 1, length(p.path) - 1) || '0')
FROM places p;

INSERT INTO place_round_stats (place_id, round_id, registered, units_registered)
SELECT p.id, r.id,
    (SELECT COUNT(*) FROM members m WHERE m.place_path >= p.path
        AND m.place_path < substr(p.path, 1, length(p.path) - 1) || '0'
        AND EXISTS (SELECT 1 FROM registrations g WHERE g.member_id = m.id AND g.round_id = r.id
            AND g.status = 'accepted')),
    (SELECT COUNT(DISTINCT ur.unit_id) FROM unit_registrations ur WHERE ur.place_path >= p.path
        AND ur.place_path < substr(p.path, 1, length(p.path) - 1) || '0'
        AND ur.round_id = r.id AND ur.status = 'accepted')
FROM places p CROSS JOIN rounds r;
