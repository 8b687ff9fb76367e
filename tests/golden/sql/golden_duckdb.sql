-- Lead scores and tiers for the funnel rule set 'golden: 全部の規則', written for DuckDB. One row
-- per row of "crm"."leads": id (column 'lead id' as text), score and tier. The table holds the
-- leads file's columns under their own names, as text or typed; names are quoted, so they must
-- match exactly, case included. Values are cleaned as funnel cleans them on load: empty cells
-- and placeholders ('', 'Select', 'unknown', 'N/A', 'NA', '-', '--', 'null', '#N/A', 'NaN',
-- '不明', '未選択', '未設定') are missing; categories compare without case or spacing; numbers may
-- have commas between thousands and full-width digits.
--
-- Rules:
--   業種 = IT・ソフトウェア: +15 points
--   partner "type" = O'Reilly: +10 points
--   メール種別 = Corporate: +5 points
--   従業員数 from 300 to under 1000: +10 points
--   従業員数 from … to under 50: -5 points
--   従業員数 from 1000 to under …: +20 points
--   Each Web visits: +2 points, up to 20
--   Each email opens: -1 point, up to 5
--   Each inquiries: +3 points
--   inquiries at least 2: +15 points
--   email opens at least 10: -10 points
--   業種 is one of 製造業, 小売, O'Brien: +4 points
--   inquiries = 0: -4 points
--   従業員数 > 999: +3 points
--   Never hot when メール種別 is Competitor, Free mail
--   The score is capped at 60
--   hot: score 45 or more
--   warm: score 20.5 or more
--   cold: every other lead
WITH lead_text AS (
    -- 1. The columns the rules read, as text: full-width ASCII made ASCII, runs of
    --    whitespace made one space, ends trimmed.
    SELECT
        CAST("lead id" AS VARCHAR) AS id,  -- lead id
        TRIM(REGEXP_REPLACE(TRANSLATE(
            CAST("業種" AS VARCHAR),
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
        ), '[\s\p{Z}]+', ' ', 'g')) AS c1,  -- 業種
        TRIM(REGEXP_REPLACE(TRANSLATE(
            CAST("partner ""type""" AS VARCHAR),
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
        ), '[\s\p{Z}]+', ' ', 'g')) AS c2,  -- partner "type"
        TRIM(REGEXP_REPLACE(TRANSLATE(
            CAST("メール種別" AS VARCHAR),
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
        ), '[\s\p{Z}]+', ' ', 'g')) AS c3,  -- メール種別
        TRIM(REGEXP_REPLACE(TRANSLATE(
            CAST("従業員数" AS VARCHAR),
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
        ), '[\s\p{Z}]+', ' ', 'g')) AS c4,  -- 従業員数
        TRIM(REGEXP_REPLACE(TRANSLATE(
            CAST("Web visits" AS VARCHAR),
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
        ), '[\s\p{Z}]+', ' ', 'g')) AS c5,  -- Web visits
        TRIM(REGEXP_REPLACE(TRANSLATE(
            CAST("email opens" AS VARCHAR),
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
        ), '[\s\p{Z}]+', ' ', 'g')) AS c6,  -- email opens
        TRIM(REGEXP_REPLACE(TRANSLATE(
            CAST("inquiries" AS VARCHAR),
            '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
            '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
        ), '[\s\p{Z}]+', ' ', 'g')) AS c7  -- inquiries
    FROM "crm"."leads"
),
lead_values AS (
    -- 2. Placeholders and empty cells are missing; categories compare in lower case.
    SELECT
        id,
        CASE WHEN LOWER(c1) IN ('', 'select', 'unknown', 'n/a', 'na', '-', '--', 'null', '#n/a', 'nan', '不明', '未選択', '未設定') THEN NULL ELSE LOWER(c1) END AS k1,  -- 業種
        CASE WHEN LOWER(c2) IN ('', 'select', 'unknown', 'n/a', 'na', '-', '--', 'null', '#n/a', 'nan', '不明', '未選択', '未設定') THEN NULL ELSE LOWER(c2) END AS k2,  -- partner "type"
        CASE WHEN LOWER(c3) IN ('', 'select', 'unknown', 'n/a', 'na', '-', '--', 'null', '#n/a', 'nan', '不明', '未選択', '未設定') THEN NULL ELSE LOWER(c3) END AS k3,  -- メール種別
        CASE WHEN LOWER(c4) IN ('', 'select', 'unknown', 'n/a', 'na', '-', '--', 'null', '#n/a', 'nan', '不明', '未選択', '未設定') THEN NULL ELSE c4 END AS d4,  -- 従業員数
        CASE WHEN LOWER(c5) IN ('', 'select', 'unknown', 'n/a', 'na', '-', '--', 'null', '#n/a', 'nan', '不明', '未選択', '未設定') THEN NULL ELSE c5 END AS d5,  -- Web visits
        CASE WHEN LOWER(c6) IN ('', 'select', 'unknown', 'n/a', 'na', '-', '--', 'null', '#n/a', 'nan', '不明', '未選択', '未設定') THEN NULL ELSE c6 END AS d6,  -- email opens
        CASE WHEN LOWER(c7) IN ('', 'select', 'unknown', 'n/a', 'na', '-', '--', 'null', '#n/a', 'nan', '不明', '未選択', '未設定') THEN NULL ELSE c7 END AS d7  -- inquiries
    FROM lead_text
),
lead_numbers AS (
    -- 3. Numbers parsed where they are plain decimal numbers, or have commas between
    --    thousands (1,200); missing otherwise.
    SELECT
        id,
        k1,
        k2,
        k3,
        CASE
            WHEN LENGTH(d4) > 200 THEN NULL
            WHEN REGEXP_MATCHES(d4, '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$') THEN TRY_CAST(d4 AS DOUBLE)
            WHEN REGEXP_MATCHES(d4, '^[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?$') THEN TRY_CAST(REPLACE(d4, ',', '') AS DOUBLE)
        END AS n4,  -- 従業員数
        CASE
            WHEN LENGTH(d5) > 200 THEN NULL
            WHEN REGEXP_MATCHES(d5, '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$') THEN TRY_CAST(d5 AS DOUBLE)
            WHEN REGEXP_MATCHES(d5, '^[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?$') THEN TRY_CAST(REPLACE(d5, ',', '') AS DOUBLE)
        END AS n5,  -- Web visits
        CASE
            WHEN LENGTH(d6) > 200 THEN NULL
            WHEN REGEXP_MATCHES(d6, '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$') THEN TRY_CAST(d6 AS DOUBLE)
            WHEN REGEXP_MATCHES(d6, '^[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?$') THEN TRY_CAST(REPLACE(d6, ',', '') AS DOUBLE)
        END AS n6,  -- email opens
        CASE
            WHEN LENGTH(d7) > 200 THEN NULL
            WHEN REGEXP_MATCHES(d7, '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$') THEN TRY_CAST(d7 AS DOUBLE)
            WHEN REGEXP_MATCHES(d7, '^[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?$') THEN TRY_CAST(REPLACE(d7, ',', '') AS DOUBLE)
        END AS n7  -- inquiries
    FROM lead_values
),
lead_points AS (
    -- 4. Each rule's points, and whether a gate knocks the lead out.
    SELECT
        id,
        CASE WHEN k1 = 'it・ソフトウェア' THEN 15 ELSE 0 END AS r1,  -- 業種 = IT・ソフトウェア: +15 points
        CASE WHEN k2 = 'o''reilly' THEN 10 ELSE 0 END AS r2,  -- partner "type" = O'Reilly: +10 points
        CASE WHEN k3 = 'corporate' THEN 5 ELSE 0 END AS r3,  -- メール種別 = Corporate: +5 points
        CASE WHEN n4 >= 300 AND n4 < 1000 THEN 10 ELSE 0 END AS r4,  -- 従業員数 from 300 to under 1000: +10 points
        CASE WHEN n4 < 50 THEN -5 ELSE 0 END AS r5,  -- 従業員数 from … to under 50: -5 points
        CASE WHEN n4 >= 1000 THEN 20 ELSE 0 END AS r6,  -- 従業員数 from 1000 to under …: +20 points
        LEAST(COALESCE(n5, 0) * 2, 20) AS r7,  -- Each Web visits: +2 points, up to 20
        GREATEST(COALESCE(n6, 0) * -1, -5) AS r8,  -- Each email opens: -1 point, up to 5
        COALESCE(n7, 0) * 3 AS r9,  -- Each inquiries: +3 points
        CASE WHEN n7 >= 2 THEN 15 ELSE 0 END AS r10,  -- inquiries at least 2: +15 points
        CASE WHEN n6 >= 10 THEN -10 ELSE 0 END AS r11,  -- email opens at least 10: -10 points
        CASE WHEN k1 IN ('製造業', '小売', 'o''brien') THEN 4 ELSE 0 END AS r12,  -- 業種 is one of 製造業, 小売, O'Brien: +4 points
        CASE WHEN n7 = 0 THEN -4 ELSE 0 END AS r13,  -- inquiries = 0: -4 points
        CASE WHEN n4 > 999 THEN 3 ELSE 0 END AS r14,  -- 従業員数 > 999: +3 points
        COALESCE(k3 IN ('competitor', 'free mail'), FALSE) AS knocked_out  -- Never hot when メール種別 is Competitor, Free mail
    FROM lead_numbers
),
lead_scores AS (
    -- 5. The score: the sum of the points, capped.
    SELECT
        id,
        CAST(LEAST(r1 + r2 + r3 + r4 + r5 + r6 + r7 + r8 + r9 + r10 + r11 + r12 + r13 + r14, 60) AS DOUBLE) AS score,
        knocked_out
    FROM lead_points
)
-- 6. The tier: the first whose minimum the score reaches; a knocked-out lead is never hot.
SELECT
    id,
    score,
    CASE
        WHEN score >= 45 AND NOT knocked_out THEN 'hot'
        WHEN score >= 20.5 THEN 'warm'
        ELSE 'cold'
    END AS tier
FROM lead_scores
