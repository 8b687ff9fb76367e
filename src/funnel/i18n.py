"""The one translation layer: every user-facing string, in English and Japanese.

``t(key, lang, **params)`` renders a message; parameters are user data inserted as plain text
(pages render the result as text, never as Markdown/HTML).
"""

from __future__ import annotations

from typing import Any

LANGUAGES = {"en": "English", "ja": "日本語"}
DEFAULT_LANG = "en"

MESSAGES: dict[str, tuple[str, str]] = {
    # --- generic ---
    "rows.more": ("{shown} (and {more} more)", "{shown}（他 {more} 行）"),
    # --- problems: file level ---
    "problem.file_missing": (
        "{file}: the file does not exist.",
        "{file}: ファイルが見つかりません。",
    ),
    "fix.file_missing": (
        "Check the path ({path}) and try again.",
        "パス（{path}）を確認して、もう一度お試しください。",
    ),
    "problem.too_large": (
        "{file} is {size}, above the size limit of {limit}.",
        "{file} は {size} で、上限 {limit} を超えています。",
    ),
    "fix.too_large": (
        "Split the export into smaller files, or raise the limit with --max-size or "
        "FUNNEL_MAX_FILE_BYTES.",
        "エクスポートを分割するか、--max-size または FUNNEL_MAX_FILE_BYTES で上限を上げてください。",
    ),
    "problem.unsupported_binary": (
        "{file} is not a table file (it looks like {what}).",
        "{file} は表形式のファイルではありません（{what}のようです）。",
    ),
    "fix.unsupported_binary": (
        "Export the data as CSV, .xlsx or Parquet. Old .xls workbooks: open and save as .xlsx.",
        "CSV・.xlsx・Parquet で書き出してください。古い .xls は開いて .xlsx で保存し直してください。",
    ),
    "kind.csv": ("CSV text", "CSV テキスト"),
    "kind.xlsx": ("an Excel workbook", "Excel ブック"),
    "kind.parquet": ("a Parquet file", "Parquet ファイル"),
    "kind.xls": ("an old Excel .xls workbook", "古い Excel の .xls ブック"),
    "kind.pdf": ("a PDF document", "PDF 文書"),
    "kind.binary": ("binary data", "バイナリデータ"),
    "problem.wrong_format": (
        "{file} is named {ext} but its content is {actual}.",
        "{file} の拡張子は {ext} ですが、中身は{actual}です。",
    ),
    "fix.wrong_format": (
        "Rename the file to match its content (.csv, .xlsx or .parquet), or export it again.",
        "中身に合わせて拡張子（.csv・.xlsx・.parquet）を直すか、もう一度書き出してください。",
    ),
    "problem.encoding": (
        "{file} is not readable as {encoding} text (line {line}, bytes {values}).",
        "{file} は {encoding} のテキストとして読めません（{line} 行目、バイト列 {values}）。",
    ),
    "fix.encoding": (
        "Save the file as UTF-8 (or Shift_JIS), or name its encoding with --encoding.",
        "UTF-8（または Shift_JIS）で保存し直すか、--encoding で文字コードを指定してください。",
    ),
    "problem.file_empty": ("{file} is empty.", "{file} は空です。"),
    "fix.file_empty": (
        "Export the leads again; the file has no header and no rows.",
        "リードをもう一度書き出してください。見出しもデータもありません。",
    ),
    "problem.header_only": (
        "{file} has a header ({values}) but no data rows.",
        "{file} には見出し（{values}）しかなく、データ行がありません。",
    ),
    "fix.header_only": (
        "Check the export's filters: it produced no rows.",
        "エクスポートの絞り込み条件を確認してください。行が 0 件でした。",
    ),
    "problem.no_header": (
        "{file} has no header row: its first line holds values such as {values}.",
        "{file} に見出し行がありません。1 行目が {values} のような値です。",
    ),
    "fix.no_header": (
        "Add a first line with the column names (e.g. lead_id,created_at,source,...).",
        "1 行目に列名（例: リードID,作成日,流入元,...）を追加してください。",
    ),
    "problem.unnamed_column": (
        "{file}: column {index} has no name; it was named {column}.",
        "{file}: {index} 列目に名前がないため {column} と名付けました。",
    ),
    "fix.unnamed_column": (
        "Give the column a name in the file if it matters.",
        "必要であればファイル側で列名を付けてください。",
    ),
    "problem.duplicate_header": (
        "{file} has several columns named {values} (names are compared ignoring case).",
        "{file} に同じ名前の列が複数あります: {values}（大文字・小文字は区別しません）。",
    ),
    "fix.duplicate_header": (
        "Rename the duplicates so every column name is unique.",
        "列名がすべて異なるように名前を変えてください。",
    ),
    "problem.bad_csv": (
        "{file} could not be read as CSV: {detail}",
        "{file} を CSV として読めませんでした: {detail}",
    ),
    "fix.bad_csv": (
        "Open it in a spreadsheet and export it again as CSV.",
        "表計算ソフトで開き、CSV として書き出し直してください。",
    ),
    "problem.ragged_rows": (
        "{file}: some rows do not have {expected} fields like the header ({count} in all; rows {rows} have {values} fields; delimiter: {delimiter}).",
        "{file}: 項目数が見出しの {expected} 個と合わない行があります（計 {count} 行。{rows} 行目の項目数 {values}。区切り文字: {delimiter}）。",
    ),
    "fix.ragged_rows": (
        "Quote values that contain the delimiter or line breaks, or remove the stray delimiters.",
        '区切り文字や改行を含む値を " で囲むか、余分な区切り文字を削除してください。',
    ),
    "problem.bad_excel": (
        "{file} could not be read as an Excel workbook: {detail}",
        "{file} を Excel ブックとして読めませんでした: {detail}",
    ),
    "fix.bad_excel": (
        "Open it in Excel and save it again as .xlsx, or export CSV instead.",
        "Excel で開いて .xlsx で保存し直すか、CSV で書き出してください。",
    ),
    "problem.bad_parquet": (
        "{file} could not be read as Parquet: {detail}",
        "{file} を Parquet として読めませんでした: {detail}",
    ),
    "fix.bad_parquet": (
        "Write the file again; it may be truncated.",
        "ファイルを書き出し直してください。途中で切れている可能性があります。",
    ),
    "problem.too_many_columns": (
        "{file} has {count} columns, more than the {limit} funnel reads.",
        "{file} には {count} 列あり、funnel が読める {limit} 列を超えています。",
    ),
    "fix.too_many_columns": (
        "Export only the columns you need (id, dates, source, outcome, lead attributes), and check that the delimiter is right.",
        "必要な列（ID・日付・流入元・結果・リードの属性）だけを書き出し、区切り文字が正しいか確認してください。",
    ),
    "problem.column_name_too_long": (
        "{file}: column {index} has a name longer than {limit} characters ({values}), so the first line is not a header.",
        "{file}: {index} 列目の名前が {limit} 文字を超えています（{values}）。1 行目が見出しではないようです。",
    ),
    "fix.column_name_too_long": (
        "Make the first line hold short column names (e.g. lead_id,created_at,source,...), and check the delimiter and line breaks.",
        "1 行目を短い列名（例: リードID,作成日,流入元,...）にし、区切り文字と改行を確認してください。",
    ),
    "problem.nul_byte": (
        "{file} contains a NUL byte (line {line}), which never appears in a text export.",
        "{file} に NUL バイトが含まれています（{line} 行目）。テキストのエクスポートには現れない文字です。",
    ),
    "fix.nul_byte": (
        "The file is damaged or not text: export it again as CSV.",
        "ファイルが壊れているか、テキストではありません。CSV で書き出し直してください。",
    ),
    "problem.unclosed_quote": (
        '{file}: the quote (") opened in row {rows} is never closed, so the rest of the file would become one cell.',
        '{file}: {rows} 行目で開いた引用符（"）が閉じられていないため、残りがすべて 1 つのセルになってしまいます。',
    ),
    "fix.unclosed_quote": (
        'Close the quote in that row, or write a quote inside a value twice ("").',
        '該当行の引用符を閉じるか、値の中の引用符は 2 つ重ねて（""）書いてください。',
    ),
    "problem.excel_expands": (
        "{file} unzips to {size} ({ratio} times its size); funnel opens workbooks that expand at most {max_ratio} times and stay within the size limit of {limit}.",
        "{file} は展開すると {size}（元の {ratio} 倍）になります。funnel が開けるのは、展開後が {max_ratio} 倍以内かつ上限 {limit} 以内のブックです。",
    ),
    "fix.excel_expands": (
        "Open it in Excel and save it again as .xlsx, or export CSV instead; if the workbook is genuine, raise the limit with --max-size.",
        "Excel で開いて .xlsx で保存し直すか、CSV で書き出してください。正しいブックであれば --max-size で上限を上げてください。",
    ),
    "problem.unsupported_type": (
        "{file}: columns {values} hold values funnel cannot store as lead fields ({types}).",
        "{file}: 列 {values} には funnel がリードの項目として保存できない値（{types}）が入っています。",
    ),
    "fix.unsupported_type": (
        "Write those columns as text, numbers or dates (flatten lists and structs), or leave them out of the export.",
        "それらの列をテキスト・数値・日付で書き出す（リストや構造体は展開する）か、エクスポートから外してください。",
    ),
    # --- problems: mapping ---
    "problem.column_missing": (
        "{file} has no column {column} (the mapping uses it). Columns found: {available}.",
        "{file} に列 {column} がありません（マッピングで使用）。存在する列: {available}。",
    ),
    "fix.column_missing": (
        "Correct the column name in the mapping or option, or export the column.",
        "マッピングやオプションの列名を直すか、その列を含めて書き出してください。",
    ),
    "problem.role_twice": (
        "{file}: several columns are mapped as {role}: {values}.",
        "{file}: 複数の列が {role} に割り当てられています: {values}。",
    ),
    "fix.role_twice": (
        "Keep one column for that role.",
        "その役割には 1 列だけ割り当ててください。",
    ),
    "problem.outcomes_file_missing": (
        "The mapping takes the outcome from an outcomes file, but none was given.",
        "マッピングでは結果を結果ファイルから取りますが、ファイルが指定されていません。",
    ),
    "fix.outcomes_file_missing": (
        "Add the outcomes file (--outcomes), or map an outcome column in the leads file.",
        "結果ファイル（--outcomes）を追加するか、リードファイルの結果列を割り当ててください。",
    ),
    "problem.outcomes_without_id": (
        "{file}: no column is mapped as the lead id, so outcomes cannot be matched to leads.",
        "{file}: リードIDの列が割り当てられていないため、結果をリードに結び付けられません。",
    ),
    "fix.outcomes_without_id": (
        "Map the column that holds the lead id in the outcomes file.",
        "結果ファイルのリードID列を割り当ててください。",
    ),
    "problem.leads_without_id": (
        "{file}: no lead id column, but another file must be matched to the leads by id.",
        "{file}: リードID列がありませんが、他のファイルをIDで結び付ける必要があります。",
    ),
    "fix.leads_without_id": (
        "Map the lead id column of the leads file.",
        "リードファイルのリードID列を割り当ててください。",
    ),
    "problem.no_won_value": (
        "{file}: none of the values of {column} is marked as meaning won.",
        "{file}: 列 {column} のどの値も「受注」を表す値に指定されていません。",
    ),
    "fix.no_won_value": (
        "Choose which values mean won (and lost) in the mapping.",
        "マッピングで受注（と失注）を表す値を選んでください。",
    ),
    "problem.activity_role_missing": (
        "{file}: no column is mapped as the activity {role}.",
        "{file}: 行動ログの {role} 列が割り当てられていません。",
    ),
    "fix.activity_role_missing": (
        "An activity log needs a lead id, a timestamp and an activity type column.",
        "行動ログにはリードID・日時・行動種別の列が必要です。",
    ),
    "problem.reserved_column": (
        "{file}: column names starting with _funnel_ are reserved by funnel: {values}.",
        "{file}: _funnel_ で始まる列名は funnel が使用するため使えません: {values}。",
    ),
    "fix.reserved_column": (
        "Rename those columns in the file.",
        "ファイル側で列名を変更してください。",
    ),
    # --- problems: values ---
    "problem.missing_id": (
        "{file}: the id column {column} is empty in some rows ({count} in all; rows {rows}).",
        "{file}: ID列 {column} が空の行が {count} 行あります（{rows} 行目）。",
    ),
    "fix.missing_id": (
        "Fill in the id, remove those rows, or map no id column to number the leads.",
        "IDを入力するか、その行を削除するか、ID列を割り当てずに自動採番してください。",
    ),
    "problem.duplicate_id": (
        "{file}: ids in {column} appear more than once: {values} ({count} rows: {rows}).",
        "{file}: 列 {column} のIDが重複しています: {values}（{count} 行: {rows} 行目）。",
    ),
    "fix.duplicate_id": (
        "Remove the duplicate rows, or keep the last occurrence of each id with --keep-last "
        '(the "Keep the last row when an id repeats" box in the app).',
        "重複行を削除するか、--keep-last（アプリでは「IDが重複したら最後の行を使う」）で各IDの最後の行を使ってください。",
    ),
    "problem.bad_date": (
        "{file}: {column} has values that are not dates: {values} ({count} in all; rows {rows}).",
        "{file}: 列 {column} の {count} 件が日付として読めません: {values}（{rows} 行目）。",
    ),
    "fix.bad_date": (
        "Write dates as 2024-01-31 or 2024/01/31 (a time may follow), or map the column as "
        "an attribute.",
        "日付は 2024-01-31 や 2024/01/31 の形式で（時刻は続けて可）書くか、属性として割り当ててください。",
    ),
    "problem.future_date": (
        "{file}: {column} has dates in the future: {values} ({count} in all; rows {rows}).",
        "{file}: 列 {column} に未来の日付が {count} 件あります: {values}（{rows} 行目）。",
    ),
    "fix.future_date": (
        "Check the export (time zone, typing errors) and correct those dates.",
        "エクスポート設定（タイムゾーン等）や入力ミスを確認して、日付を直してください。",
    ),
    "problem.ancient_date": (
        "{file}: {column} has dates before 1900: {values} ({count} in all; rows {rows}).",
        "{file}: 列 {column} に 1900 年より前の日付が {count} 件あります: {values}（{rows} 行目）。",
    ),
    "fix.ancient_date": (
        "Correct those dates (typing errors, or a placeholder date such as 0000-01-01), or leave the cells empty.",
        "日付を直すか（入力ミスや 0000-01-01 のような仮の日付）、セルを空にしてください。",
    ),
    "problem.not_a_number": (
        "{file}: {column} has values that are not numbers: {values} ({count} in all; rows {rows}).",
        "{file}: 列 {column} の {count} 件が数値ではありません: {values}（{rows} 行目）。",
    ),
    "fix.not_a_number": (
        "Keep only digits in that column, or map it as a category (attribute).",
        "その列は数字だけにするか、カテゴリ（属性）として割り当ててください。",
    ),
    "problem.negative_count": (
        "{file}: {column} counts a behaviour but has negative values: {values} ({count} in all; rows {rows}).",
        "{file}: 回数の列 {column} に負の値が {count} 件あります: {values}（{rows} 行目）。",
    ),
    "fix.negative_count": (
        "Counts of behaviour cannot be below zero: correct them, or map the column as a number.",
        "行動の回数は 0 未満になりません。値を直すか、数値属性として割り当ててください。",
    ),
    "problem.unknown_outcome_value": (
        "{file}: the outcome column {column} has values that mean neither won nor lost: {values} ({count} in all; rows {rows}).",
        "{file}: 結果列 {column} に受注・失注のどちらでもない値があります: {values}（計 {count} 件。{rows} 行目）。",
    ),
    "fix.unknown_outcome_value": (
        "Say which values mean won, lost or still open in the mapping (or fix the cells).",
        "マッピングでそれぞれの値が受注・失注・商談中のどれかを指定してください（またはセルを修正）。",
    ),
    "problem.unknown_lead": (
        "{file}: some rows refer to leads that are not in the leads file: {values} (column {column}; {count} in all; rows {rows}).",
        "{file}: リードファイルにないリードを参照する行が {count} 行あります: {values}（列 {column}、{rows} 行目）。",
    ),
    "fix.unknown_lead": (
        "Export leads and outcomes for the same period, or remove those rows.",
        "リードと結果を同じ期間で書き出すか、その行を削除してください。",
    ),
    "problem.missing_activity_type": (
        "{file}: some activities have no type in {column} ({count} in all; rows {rows}).",
        "{file}: 列 {column} に行動種別が空の行が {count} 行あります（{rows} 行目）。",
    ),
    "fix.missing_activity_type": ("Fill in the activity type.", "行動種別を入力してください。"),
    "problem.invalid_value": (
        "{file}: {column} has invalid values: {values} ({count} in all; rows {rows}).",
        "{file}: 列 {column} に不正な値が {count} 件あります: {values}（{rows} 行目）。",
    ),
    "fix.invalid_value": ("Correct those cells.", "該当するセルを直してください。"),
    "problem.too_many_activity_types": (
        "{file}: {count} different activity types in {column} (limit {limit}), e.g. {values}.",
        "{file}: 列 {column} の行動種別が {count} 種類あります（上限 {limit}）。例: {values}。",
    ),
    "fix.too_many_activity_types": (
        "Map the column that holds the activity type, not a free-text column.",
        "自由記述ではなく、行動種別を表す列を割り当ててください。",
    ),
    # --- notes and warnings ---
    "problem.placeholders": (
        '{file}: cells in {column} that mean "missing" ({values}) are stored as empty ({count} in all).',
        "{file}: 列 {column} の {count} 件は欠損を表す値（{values}）のため空として保存します。",
    ),
    "fix.placeholders": (
        "Edit the placeholder list if one of these is a real value.",
        "実際の値が含まれている場合は、欠損値リストを編集してください。",
    ),
    "problem.merged_spellings": (
        "{file}: in {column}, {values} were merged into {kept} ({count} cells).",
        "{file}: 列 {column} の {values} を {kept} にまとめました（{count} 行）。",
    ),
    "fix.merged_spellings": (
        "Spellings differing only by case or spaces are one category.",
        "大文字・小文字や空白だけが違う表記は同じカテゴリとして扱います。",
    ),
    "problem.duplicates_dropped": (
        "{file}: rows with a repeated id in {column} were replaced by the last one ({count} in all; rows {rows}).",
        "{file}: 列 {column} のIDが重複する {count} 行は最後の行を採用しました（{rows} 行目）。",
    ),
    "fix.duplicates_dropped": (
        "Load without --keep-last to see them as errors instead.",
        "--keep-last を付けずに取り込むと、エラーとして確認できます。",
    ),
    "problem.surrogate_id": (
        "{file} has no id column; leads were numbered by row in a new column {column}.",
        "{file} にID列がないため、行番号から新しい列 {column} にIDを振りました。",
    ),
    "fix.surrogate_id": (
        "Map an id column if the file has one, so outcomes and new files can be matched.",
        "ID列がある場合は割り当ててください。結果や新しいファイルと照合できます。",
    ),
    "problem.no_outcome": (
        "No outcome (won/lost) was mapped: conversion views will have nothing to show.",
        "結果（受注／失注）が割り当てられていないため、転換率は表示できません。",
    ),
    "fix.no_outcome": (
        "Map an outcome column, or add an outcomes file (--outcome COL / --outcomes FILE).",
        "結果列を割り当てるか、結果ファイルを追加してください（--outcome 列 / --outcomes ファイル）。",
    ),
    "problem.absent_not_won": (
        "{file}: leads with no row in the outcomes file count as not won ({count} leads).",
        "{file}: 結果ファイルにない {count} 件のリードは未受注として扱います。",
    ),
    "fix.absent_not_won": (
        "This is expected when the file lists only won deals.",
        "受注案件だけを載せたファイルの場合は想定どおりです。",
    ),
    "problem.closed_before_created": (
        "{file}: some deals closed before the lead was created ({column}; {count} in all), e.g. leads {values}.",
        "{file}: リード作成日より前に完了した案件が {count} 件あります（{column}）。例: {values}。",
    ),
    "fix.closed_before_created": (
        "Usually a data-entry slip; they are kept, but check those leads.",
        "多くは入力ミスです。データは保持しますが、該当リードを確認してください。",
    ),
    "problem.activities_counted": (
        "{file}: activities counted per lead into {types} behaviour columns ({values}; {count} activities in all).",
        "{file}: {count} 件の行動をリードごとに集計し、{types} 個の行動列（{values}）を追加しました。",
    ),
    "fix.activities_counted": ("", ""),
    "problem.no_dates": (
        "{file} has no created date: time-based views will say why they are not shown.",
        "{file} に作成日がないため、時系列の表示はできません（理由を表示します）。",
    ),
    "fix.no_dates": (
        "Map a created-date column if the file has one.",
        "作成日の列があれば割り当ててください。",
    ),
    # --- leak reasons ---
    "leak.name": (
        "its name suggests it is recorded during or after the sale",
        "列名から、商談中または受注後に記録される項目と考えられます",
    ),
    "leak.only_won": (
        "it is filled almost only for won leads",
        "ほぼ受注したリードにだけ値があります",
    ),
    "leak.never_won": (
        "it is never filled for won leads (e.g. a lost reason)",
        "受注したリードには一度も値がありません（失注理由など）",
    ),
    "leak.value_always_won": (
        "one of its common values is almost always won: it looks recorded after the sale",
        "よく出る値のひとつがほぼ必ず受注しており、受注後に記録された項目と考えられます",
    ),
    "leak.user": (
        "marked by you as known only after the sale",
        "受注後にしか分からない項目として指定されました",
    ),
    "leak.outcomes_file": (
        "it comes from the outcomes file: known only once a deal exists",
        "結果ファイルの項目で、案件ができてから分かる情報です",
    ),
    # --- store errors ---
    "store.db_locked": (
        "The database {path} is in use by another funnel process (the app or a CLI command). Close it or wait for it to finish, then reload.",
        "データベース {path} は別の funnel プロセス（アプリまたはCLI）が使用中です。そのプロセスを閉じるか終わるのを待ってから、再読み込みしてください。",
    ),
    "store.db_read_only": (
        "The database {path} is read-only: it can be browsed but nothing can be saved.",
        "データベース {path} は読み取り専用です。閲覧はできますが保存はできません。",
    ),
    "store.db_missing": (
        "The database {path} does not exist. Load data into it first (funnel demo, funnel load, or the Data page), or point FUNNEL_DB / --db at the right file in a writable folder.",
        "データベース {path} がありません。先にデータを読み込む(funnel demo、funnel load、またはデータのページ)か、FUNNEL_DB / --db で書き込めるフォルダの正しいファイルを指定してください。",
    ),
    "store.db_unreadable": (
        "The database {path} cannot be opened: {detail}",
        "データベース {path} を開けません: {detail}",
    ),
    "store.db_too_new": (
        "The database {path} was written by a newer funnel (schema {version}).",
        "データベース {path} は新しいバージョンの funnel で作成されています（スキーマ {version}）。",
    ),
    "store.db_old_schema": (
        "The database {path} was written by an older funnel (schema {version}) and is open "
        "read-only, so it cannot be upgraded now. Close the other funnel process (or make the "
        "file writable) and open it again: it is upgraded in place, nothing is lost.",
        "データベース {path} は古い funnel（スキーマ {version}）で作成され、読み取り専用で開かれているため"
        "更新できません。他の funnel を終了する（またはファイルを書き込み可能にする）ともう一度開くと、"
        "データを失わずにその場で更新されます。",
    ),
    "store.db_not_initialised": (
        "The database {path} holds no funnel data yet.",
        "データベース {path} にはまだ funnel のデータがありません。",
    ),
    "store.dataset_missing": (
        "There is no dataset named {name}. Datasets: {known}.",
        "データセット {name} はありません。登録済み: {known}。",
    ),
    "store.dataset_exists": (
        "A dataset named {name} already exists.",
        "データセット {name} は既に存在します。",
    ),
    "store.bad_dataset_name": (
        "{name} is not a usable dataset name (1–100 characters).",
        "{name} はデータセット名に使えません（1〜100 文字）。",
    ),
    # --- analysis errors ---
    "analysis.filter_no_dates": (
        "{dataset} has no created date, so it cannot be filtered by date.",
        "{dataset} には作成日がないため、日付で絞り込めません。",
    ),
    "analysis.filter_unknown_column": (
        "There is no column {column} to filter on. Columns: {columns}.",
        "絞り込みに使う列 {column} がありません。列: {columns}。",
    ),
    "analysis.filter_syntax": (
        "Write filters as COLUMN=VALUE, not {item}.",
        "絞り込みは 列=値 の形で書いてください（{item} ではなく）。",
    ),
    "analysis.filter_bad_date": (
        "{value} is not a date: write YYYY-MM-DD.",
        "{value} は日付ではありません。YYYY-MM-DD の形で書いてください。",
    ),
    "analysis.bad_edges": (
        "Bin edges must be numbers: COLUMN=0,10,100 (not {item}).",
        "区切りは数値で指定してください: 列=0,10,100（{item} ではなく）。",
    ),
    "analysis.no_dates": (
        "This dataset has no created date, so there is no time-based view. Map a created-date "
        "column on the Data page to see it.",
        "このデータセットには作成日がないため、時系列の表示はできません。データページで作成日の列を割り当ててください。",
    ),
    "analysis.too_few_stages": (
        "A funnel needs at least two stages.",
        "ファネルには 2 つ以上のステージが必要です。",
    ),
    "analysis.unknown_stage": (
        "This dataset has no stage {stage}.",
        "このデータセットにはステージ {stage} がありません。",
    ),
    "analysis.segment_by_count": (
        "Segment by one column, or two for a heatmap.",
        "セグメントは 1 列（ヒートマップは 2 列）で指定してください。",
    ),
    "analysis.segment_unknown_column": (
        "{column} cannot be a segment. Columns: {columns}.",
        "{column} はセグメントに使えません。列: {columns}。",
    ),
    "analysis.segment_bad_stages": (
        "Conversion must go from an earlier stage to a later one ({start} → {end}; stages: "
        "{stages}).",
        "転換は前のステージから後のステージへ指定してください（{start} → {end}。ステージ: {stages}）。",
    ),
    # --- analysis pages ---
    "page.funnel": ("Funnel", "ファネル"),
    "page.segments": ("Segments", "セグメント"),
    "analysis.empty": (
        "No dataset yet: load one on the Data page, or create the demo dataset on Overview.",
        "データセットがありません。データページで取り込むか、概要ページでデモデータを作成してください。",
    ),
    "filters.title": ("Filters", "絞り込み"),
    "filters.created": ("Lead created", "リード作成日"),
    "filters.source": ("Source ({column})", "流入元（{column}）"),
    "filters.more": ("Filter by other columns", "他の列で絞り込む"),
    "filters.clear": ("Clear filters", "絞り込みを解除"),
    "filters.none": ("All leads: no filter applied.", "すべてのリード（絞り込みなし）。"),
    "filters.active": ("Filtered: {filters}", "絞り込み中: {filters}"),
    "download.csv": ("Download table (CSV)", "表をダウンロード（CSV）"),
    "download.html": ("Download chart (HTML)", "グラフをダウンロード（HTML）"),
    "funnel.title": ("Funnel", "ファネル"),
    "funnel.stages": ("Stages, in order", "ステージ（順番どおり）"),
    "funnel.stages_help": (
        "Remove or re-add stages to change the funnel; the list is remembered for this dataset.",
        "ステージを外したり追加したりしてファネルを変えられます。このデータセット用に記憶されます。",
    ),
    "funnel.no_leads": (
        "No lead matches the filters: widen them in the sidebar.",
        "絞り込みに合うリードがありません。サイドバーで条件を広げてください。",
    ),
    "funnel.col.stage": ("Stage", "ステージ"),
    "funnel.of_initial": ("of the first stage", "（最初の段階比）"),
    "funnel.of_previous": ("of the stage before", "（前の段階比）"),
    "funnel.col.leads": ("Leads", "リード数"),
    "funnel.col.from_previous": ("From previous", "前ステージから"),
    "funnel.col.from_first": ("From first", "最初から"),
    "funnel.col.drop_off": ("Drop-off", "離脱数"),
    "funnel.col.month": ("Created month", "作成月"),
    "funnel.col.converted": ("Converted", "転換数"),
    "funnel.col.rate": ("Conversion", "転換率"),
    "funnel.col.ci": ("95% interval", "95%信頼区間"),
    "funnel.col.mature": ("Matured?", "成熟度"),
    "funnel.compare": ("Two segments side by side", "2 つのセグメントを並べて比較"),
    "funnel.compare_help": (
        "Pick a column and the values of segment A and segment B (e.g. source = Seminar vs Ads).",
        "列を選び、セグメントAとBの値を選んでください（例: 流入元 = セミナー と 広告）。",
    ),
    "funnel.compare_by": ("Compare by", "比較する列"),
    "funnel.segment_a": ("Segment A", "セグメントA"),
    "funnel.segment_b": ("Segment B", "セグメントB"),
    "funnel.compare_names": ("A = {a} · B = {b}", "A = {a} · B = {b}"),
    "funnel.compare_empty": (
        "Choose values for both segments to compare their funnels.",
        "両方のセグメントの値を選ぶと、ファネルを比較できます。",
    ),
    "funnel.cohorts": ("Conversion to {stage} by month of creation", "作成月別の{stage}への転換率"),
    "funnel.cohorts_help": (
        "Grey months are immature: their leads have had less time than it takes 90% of "
        "conversions to happen ({days} days in this dataset, counted to {as_of}). Their rate "
        "will still rise — it is not a collapse.",
        "グレーの月は未成熟です。転換の 90% が起きるまでの期間（このデータでは {days} 日、{as_of} 時点）が"
        "まだ経っていないため、転換率は今後上がります。落ち込みではありません。",
    ),
    "funnel.mature": ("Mature", "成熟"),
    "funnel.immature": ("Immature (still converting)", "未成熟（転換途中）"),
    "funnel.cohort_table": ("Cohort table", "コホート表"),
    "funnel.times": ("Time to convert between stages", "ステージ間の所要日数"),
    "funnel.times_none": (
        "No two consecutive stages both have dates, so times cannot be measured.",
        "日付のある連続したステージがないため、所要日数は計算できません。",
    ),
    "funnel.median_days": ("{step}: median days", "{step}: 日数の中央値"),
    "funnel.quartiles": (
        "25%: {p25} · 75%: {p75} · 90%: {p90} days (n = {n})",
        "25%: {p25} · 75%: {p75} · 90%: {p90} 日（n = {n}）",
    ),
    "funnel.days": ("Days", "日数"),
    "segments.title": ("Segments", "セグメント"),
    "segments.by": ("Segment by", "セグメントの列"),
    "segments.and_by": ("…and by (heatmap)", "…さらに（ヒートマップ）"),
    "segments.from_stage": ("From", "起点"),
    "segments.to_stage": ("To", "到達"),
    "segments.min_n": ("Minimum leads", "最小リード数"),
    "segments.bins": ("{column}: bins", "{column}: 区間数"),
    "segments.edges": (
        "{column}: custom bin edges (e.g. 10, 100, 1000)",
        "{column}: 区切り値を指定（例: 10, 100, 1000）",
    ),
    "segments.bad_edges": (
        "Bin edges must be numbers separated by commas; quantile bins are used instead.",
        "区切り値はカンマ区切りの数値で指定してください。代わりに分位点で区切ります。",
    ),
    "segments.summary": (
        "{start} → {end}: {rate} overall ({converted} of {n}). Segments under {min_n} leads are "
        "marked small and never called best or worst; a segment is clearly above or below "
        "only when its whole 95% interval is.",
        "{start} → {end}: 全体 {rate}（{n} 件中 {converted} 件）。{min_n} 件未満のセグメントは少数として示し、"
        "最良・最悪には含めません。95% 信頼区間全体が全体の転換率を上回る（下回る）場合のみ「明確に高い（低い）」とします。",
    ),
    "segments.small_warning": (
        "{count} segments have fewer than {min_n} leads: their rates are too uncertain to rank.",
        "{count} 個のセグメントはリードが {min_n} 件未満のため、転換率は順位付けできるほど確かではありません。",
    ),
    "segments.overall": ("Overall", "全体"),
    "segments.small": ("Too few leads", "少数"),
    "segments.best": ("Best", "最良"),
    "segments.worst": ("Worst", "最悪"),
    "segments.ci_low": ("95% low", "95%下限"),
    "segments.ci_high": ("95% high", "95%上限"),
    "segments.lift": ("Lift", "リフト"),
    "segments.note": ("Note", "注記"),
    "segments.versus": ("vs overall (95%)", "全体との比較（95%）"),
    "segments.versus.above": ("Clearly above", "明確に高い"),
    "segments.versus.below": ("Clearly below", "明確に低い"),
    "segments.versus.similar": ("Not distinguishable", "差は不明確"),
    "segments.help": (
        "Conversion with a Wilson 95% interval; lift is the segment's rate divided by the "
        "overall rate. Numeric columns are cut into quantile bins unless you give edges; empty "
        "values form their own (missing) segment.",
        "転換率と Wilson 法による 95% 信頼区間。リフトはセグメントの転換率 ÷ 全体の転換率です。"
        "数値の列は区切り値を指定しない限り分位点で区切り、空の値は (missing) として別に集計します。",
    ),
    "suggest.no_outcome": (
        "This dataset has no outcome, so there is nothing to learn points from.",
        "このデータセットには結果がないため、配点を学習できません。",
    ),
    "suggest.no_features": (
        "No lead feature to score on: map attribute or behaviour columns on the Data page.",
        "スコアに使えるリードの特徴がありません。データページで属性・行動の列を割り当ててください。",
    ),
    "suggest.no_dates_for_capacity": (
        "This dataset has no dates, so leads per week (and capacity) cannot be measured: use "
        "--target-conversion instead.",
        "日付がないため週あたりのリード数（キャパシティ）を測れません。--target-conversion を使ってください。",
    ),
    "suggest.no_wins": (
        "The training leads have no won (or no lost) outcome, so no model can be fitted.",
        "学習用のリードに受注（または失注）がないため、モデルを作れません。",
    ),
    # --- rules in plain language ---
    "rule.category": ("{column} = {value}: {points} points", "{column} が {value}: {points} 点"),
    "rule.range": (
        "{column} from {low} to under {high}: {points} points",
        "{column} が {low} 以上 {high} 未満: {points} 点",
    ),
    "rule.per_unit": ("Each {column}: {points} points", "{column} 1 回ごとに {points} 点"),
    "rule.per_unit_cap": (
        "Each {column}: {points} points, up to {cap}",
        "{column} 1 回ごとに {points} 点（上限 {cap} 点）",
    ),
    "rule.per_unit_label": ("Each {column}", "{column} 1 回ごと"),
    "rule.count": (
        "{column} at least {at_least}: {points} points",
        "{column} が {at_least} 以上: {points} 点",
    ),
    "rule.gate": (
        "Never hot when {column} is {values}",
        "{column} が {values} のときはホットにしない",
    ),
    # --- rule-set files and edits (funnel.rules.RuleSetError) ---
    "ruleset.source.rule_set": ("rule set", "ルールセット"),
    "ruleset.source.rule_set_file": ("rule set file", "ルールセットのファイル"),
    "ruleset.source.shared_link": ("shared link", "共有リンク"),
    "ruleset.where.rule": ("rule {n}", "ルール {n}"),
    "ruleset.where.gate": ("gate {n}", "除外条件 {n}"),
    "ruleset.where.tier": ("tier {n}", "ランク {n}"),
    "ruleset.points_bool": (
        "points must be a whole number, not {value}.",
        "points（点数）には {value} ではなく整数を書いてください。",
    ),
    "ruleset.points_range": (
        "points must be a whole number between -1000 and 1000.",
        "points（点数）は -1000 から 1000 までの整数にしてください。",
    ),
    "ruleset.not_number": ("{value} is not a number.", "{value} は数値ではありません。"),
    "ruleset.number_too_large": (
        "the number is far too large.",
        "数値が大きすぎます。",
    ),
    "ruleset.not_finite": (
        "{value} is not a finite number.",
        "{value} は有限の数値ではありません。",
    ),
    "ruleset.too_few_tiers": (
        "A rule set needs at least two tiers (e.g. hot and cold).",
        "ルールセットには 2 つ以上のランクが必要です（例: hot と cold）。",
    ),
    "ruleset.tier_names": (
        "Tier names must be non-empty and different.",
        "ランク名は空にせず、重複しないようにしてください。",
    ),
    "ruleset.tier_order": (
        "Tier thresholds must go down from the first tier to the last.",
        "ランクのしきい値は、最初のランクから最後のランクに向かって下がるようにしてください。",
    ),
    "ruleset.decay_range": (
        "The decay half-life must be between 0 and 3650 days.",
        "減衰の半減期は 0 日より長く 3650 日以下にしてください。",
    ),
    "ruleset.unknown_key_close": (
        "unknown key {name} (did you mean {close}?).",
        "不明なキー {name} です（{close} の誤りではありませんか?）。",
    ),
    "ruleset.unknown_key": (
        "unknown key {name}; use {known}.",
        "不明なキー {name} です。使えるキー: {known}。",
    ),
    "ruleset.not_mapping": (
        "expected a mapping with rules:, tiers:, ...",
        "rules:、tiers: などのキーを持つ形式で書いてください。",
    ),
    "ruleset.schema_not_int": (
        "schema_version must be a whole number.",
        "schema_version は整数にしてください。",
    ),
    "ruleset.schema_newer": (
        "schema_version {version} is newer than this funnel understands ({supported}); upgrade funnel.",
        "schema_version {version} は、この funnel が扱える版（{supported}）より新しいため読み込めません。funnel を更新してください。",
    ),
    "ruleset.not_list": (
        "expected a list (one '- ' entry per item).",
        "リストで書いてください（1 項目ごとに「- 」で始まる行）。",
    ),
    "ruleset.rule_shape": (
        "expected kind:, column:, points:.",
        "kind:、column:、points: を書いてください。",
    ),
    "ruleset.unknown_kind": (
        "unknown kind {kind}; use one of {kinds}.",
        "kind {kind} は使えません。次のいずれかにしてください: {kinds}。",
    ),
    "ruleset.no_column": (
        "column must be a column name.",
        "column には列名を書いてください。",
    ),
    "ruleset.no_value": (
        "a category rule needs value: (the category).",
        "category ルールには value:（対象のカテゴリ）が必要です。",
    ),
    "ruleset.low_high": (
        "low must be below high.",
        "low（下限）は high（上限）より小さくしてください。",
    ),
    "ruleset.gate_shape": (
        "expected column: and values:.",
        "column: と values: を書いてください。",
    ),
    "ruleset.gate_values": (
        "values must be a non-empty list.",
        "values には 1 つ以上の値をリストで書いてください。",
    ),
    "ruleset.tier_shape": (
        "expected name: and min_score:.",
        "name: と min_score: を書いてください。",
    ),
    "ruleset.decay_days": (
        "decay_half_life_days must be between 0 and 3650 days (or left out).",
        "decay_half_life_days は 0 日より長く 3650 日以下にしてください（減衰しない場合は省略）。",
    ),
    "ruleset.unknown_columns": (
        "unknown column(s) {missing}; the dataset has {columns}.",
        "データセットにない列 {missing} が使われています。データセットの列: {columns}。",
    ),
    "ruleset.link_deep": (
        "the rule set in the link is damaged (nested too deeply).",
        "リンク内のルールセットが壊れています（入れ子が深すぎます）。",
    ),
    "ruleset.link_damaged": (
        "the rule set in the link is damaged ({detail}).",
        "リンク内のルールセットが壊れています（{detail}）。",
    ),
    "ruleset.file_missing": (
        "the rule set file does not exist.",
        "ルールセットのファイルが見つかりません。パスを確認してください。",
    ),
    "ruleset.not_utf8": (
        "a rule set file must be UTF-8 text (YAML or JSON); this one is not.",
        "ルールセットのファイルは UTF-8 のテキスト（YAML または JSON）にしてください。このファイルは違います。",
    ),
    "ruleset.cannot_read": (
        "cannot read the rule set file ({reason}).",
        "ルールセットのファイルを読めません（{reason}）。",
    ),
    # exported versions (funnel.versions), still RuleSetError
    "ruleset.where.signoff": ("version: signoff {n}", "version: signoffs の {n} 件目"),
    "ruleset.version_shape": (
        "expected a mapping (number:, author:, ...).",
        "number:、author: などのキーを持つ形式で書いてください。",
    ),
    "ruleset.export_newer": (
        "export_version {version} is newer than this funnel understands ({supported}); upgrade funnel.",
        "export_version {version} は、この funnel が扱える版（{supported}）より新しいため読み込めません。funnel を更新してください。",
    ),
    "ruleset.tuned_on_shape": (
        "tuned_on: expected dataset: and fingerprint:.",
        "tuned_on: には dataset: と fingerprint: を書いてください。",
    ),
    "ruleset.signoff_shape": (
        "expected role: marketing|sales, name:, at:.",
        "role:（marketing または sales）、name:、at: を書いてください。",
    ),
    "ruleset.proposed_shape": (
        "proposed: expected by: and at:.",
        "proposed: には by: と at: を書いてください。",
    ),
    "ruleset.metrics_shape": (
        "metrics: expected a mapping.",
        "metrics: はキーと値の形式で書いてください。",
    ),
    "ruleset.number_not_int": (
        "number must be a whole number.",
        "number は 0 以上の整数にしてください。",
    ),
    "ruleset.not_datetime": (
        "{field}: {value} is not a date and time (2026-11-22T10:00:00).",
        "{field}: {value} は日時として読み取れません（例: 2026-11-22T10:00:00）。",
    ),
    "ruleset.not_date": (
        "{field}: {value} is not a date (2026-12-01).",
        "{field}: {value} は日付として読み取れません（例: 2026-12-01）。",
    ),
    "ruleset.values_never_held": (
        "value(s) the dataset {name} never holds — {values}. Fix the spelling in the file, or pick the dataset the rules were made for.",
        "データセット {name} にない値が使われています — {values}。ファイル内の表記を直すか、このルールを作成したデータセットを選んでください。",
    ),
    # --- YAML and JSON files (funnel.yamlfiles.YamlError) ---
    "yaml.too_long": (
        "{chars} characters is too long for a rule set or mapping (limit {limit}).",
        "{chars} 文字あり、ルールセットや列の割り当てとしては長すぎます（上限 {limit} 文字）。",
    ),
    "yaml.syntax": (
        "not valid YAML or JSON at line {line} ({detail}).",
        "{line} 行目が YAML または JSON の書式として正しくありません（{detail}）。",
    ),
    "yaml.syntax_unplaced": (
        "not valid YAML or JSON ({detail}).",
        "YAML または JSON の書式として正しくありません（{detail}）。",
    ),
    "yaml.duplicate_key": (
        "not valid YAML or JSON at line {line} (the key {name} appears twice).",
        "{line} 行目が YAML または JSON の書式として正しくありません（キー {name} が重複しています）。",
    ),
    "yaml.alias_loop": (
        "not valid YAML or JSON at line {line} (an alias refers to itself).",
        "{line} 行目が YAML または JSON の書式として正しくありません（エイリアスが自分自身を参照しています）。",
    ),
    "yaml.too_many_values": (
        "not valid YAML or JSON at line {line} (its aliases expand to more than {limit} values).",
        "{line} 行目が YAML または JSON の書式として正しくありません（エイリアスを展開すると値が {limit} 個を超えます）。",
    ),
    "yaml.deep": (
        "not valid YAML or JSON (nested more than {limit} levels deep).",
        "YAML または JSON の書式として正しくありません（入れ子が {limit} 階層を超えています）。",
    ),
    "yaml.deep_at": (
        "not valid YAML or JSON at line {line} (nested more than {limit} levels deep).",
        "{line} 行目が YAML または JSON の書式として正しくありません（入れ子が {limit} 階層を超えています）。",
    ),
    "yaml.bad_value": (
        "not valid YAML or JSON at line {line} (cannot read the value: {detail}).",
        "{line} 行目が YAML または JSON の書式として正しくありません（値を読み取れません: {detail}）。",
    ),
    "yaml.surrogate": (
        "not valid YAML or JSON (an escaped character is half of a UTF-16 pair (\\ud800-\\udfff)).",
        "YAML または JSON の書式として正しくありません（エスケープした文字が UTF-16 のサロゲートペアの片方だけです（\\ud800-\\udfff））。",
    ),
    "yaml.surrogate_at": (
        "not valid YAML or JSON at line {line} (an escaped character is half of a UTF-16 pair (\\ud800-\\udfff)).",
        "{line} 行目が YAML または JSON の書式として正しくありません（エスケープした文字が UTF-16 のサロゲートペアの片方だけです（\\ud800-\\udfff））。",
    ),
    "yaml.json_duplicate_key": (
        "not valid JSON (the key {name} appears twice).",
        "JSON の書式として正しくありません（キー {name} が重複しています）。",
    ),
    "yaml.json_value": (
        "not valid JSON ({detail}).",
        "JSON の書式として正しくありません（{detail}）。",
    ),
    # --- column mapping files (funnel.mapping.MappingFileError) ---
    "mappingfile.not_mapping": (
        "expected a mapping of keys (leads:, outcome:, ...).",
        "leads:、outcome: などのキーを持つ形式で書いてください。",
    ),
    "mappingfile.version_not_number": (
        "version must be a number, not {value}.",
        "version には {value} ではなく数値を書いてください。",
    ),
    "mappingfile.version_newer": (
        "version {version} is newer than this funnel understands ({supported}); upgrade funnel.",
        "version {version} は、この funnel が扱える版（{supported}）より新しいため読み込めません。funnel を更新してください。",
    ),
    "mappingfile.no_leads": (
        "'leads:' must list the leads file's columns.",
        "leads: にリードファイルの列を書いてください。",
    ),
    "mappingfile.outcome_shape": (
        "outcome: must list file:, column:, won:, lost: and open: on their own lines.",
        "outcome: には file:、column:、won:、lost:、open: をそれぞれ 1 行ずつ書いてください。",
    ),
    "mappingfile.outcome_file": (
        "outcome.file must be 'leads' or 'outcomes'.",
        "outcome.file には 'leads' か 'outcomes' を指定してください。",
    ),
    "mappingfile.placeholders": (
        "placeholders must be a list of strings.",
        "placeholders は文字列のリストで書いてください。",
    ),
    "mappingfile.values_shape": (
        "expected a list of values, e.g. [Won, Closed Won].",
        "値のリストで書いてください（例: [Won, Closed Won]）。",
    ),
    "mappingfile.flag": (
        "write true or false, not {value}.",
        "{value} ではなく true か false を書いてください。",
    ),
    "mappingfile.leak_flag": (
        "column {column}: leak: write true or false, not {value}.",
        "列 {column}: leak: には {value} ではなく true か false を書いてください。",
    ),
    "mappingfile.specs_shape": (
        "expected 'column name: role' lines.",
        "「列名: 役割」の形で 1 列ずつ書いてください。",
    ),
    "mappingfile.reason_text": (
        "column {column}: reason must be text.",
        "列 {column}: reason には文字列を書いてください。",
    ),
    "mappingfile.unknown_role": (
        "column {column} has unknown role {role}; use one of {roles}.",
        "列 {column} の役割 {role} は使えません。次のいずれかにしてください: {roles}。",
    ),
    "mappingfile.file_missing": (
        "the mapping file does not exist.",
        "列の割り当てファイルが見つかりません。パスを確認してください。",
    ),
    "mappingfile.not_utf8": (
        "a mapping file must be UTF-8 text (YAML or JSON); this one is not.",
        "列の割り当てファイルは UTF-8 のテキスト（YAML または JSON）にしてください。このファイルは違います。",
    ),
    "mappingfile.cannot_read": (
        "cannot read the mapping file ({reason}).",
        "列の割り当てファイルを読めません（{reason}）。",
    ),
    # --- SQL export (funnel.sqlexport.SqlExportError) ---
    "sqlexport.no_id_in_file": (
        "{name}: its file had no lead id column, so funnel numbered the rows; the SQL needs an id column in your table. Add one to the export (e.g. the CRM record id), load it again and export the SQL from that dataset.",
        "{name}: 元のファイルにリードIDの列がなかったため、funnel が行に番号を振りました。SQL にはテーブル側のID列が必要です。エクスポートにID列（CRM のレコードIDなど）を追加して取り込み直し、そのデータセットから SQL を書き出してください。",
    ),
    "sqlexport.unknown_dialect": (
        "unknown SQL dialect {dialect}; use one of {dialects}.",
        "SQL の方言 {dialect} には対応していません。次のいずれかを指定してください: {dialects}。",
    ),
    "sqlexport.nul_value": (
        "the value {text} contains a NUL character; remove it first.",
        "値 {text} に NUL 文字が含まれています。取り除いてから書き出してください。",
    ),
    "sqlexport.nul_name": (
        "the name {text} contains a NUL character; remove it first.",
        "名前 {text} に NUL 文字が含まれています。取り除いてから書き出してください。",
    ),
    "sqlexport.bad_table": (
        "table name {table} is not usable; give it as table or schema.table (each part non-empty).",
        "テーブル名 {table} は使えません。table または schema.table の形で指定してください（どの部分も空にはできません）。",
    ),
    "sqlexport.unmapped_columns": (
        "the rule set uses column(s) {columns} that the mapping does not have; the leads file has {available}.",
        "ルールセットが使う列 {columns} が列の割り当てにありません。リードファイルの列: {available}。",
    ),
    "sqlexport.date_columns": (
        "the rule set scores date column(s) {columns}, which SQL export does not support; score a number or category column instead.",
        "ルールセットが日付の列 {columns} で採点していますが、SQL の書き出しは日付の列に対応していません。数値かカテゴリの列で採点してください。",
    ),
    "sqlexport.outcome_columns": (
        "the rule set uses {columns}, which funnel joined in from the outcomes file; those are known only once a deal is closed, so they cannot score new leads. Remove those rules to export the rest.",
        "ルールセットが使う {columns} は、funnel が結果ファイルから結合した列です。商談の完了後にしか分からないため、新しいリードの採点には使えません。これらのルールを外せば、残りを書き出せます。",
    ),
    "sqlexport.no_activity_columns": (
        "the rule set counts activities, but the mapping does not say which activity log columns hold the lead id and the activity type; load the dataset with its activity log mapped (roles id and source) and export again.",
        "ルールセットは行動の回数を数えますが、行動履歴のどの列がリードIDと行動種別なのかが列の割り当てにありません。行動履歴の列を割り当てて（役割 id と source）データセットを取り込み直し、もう一度書き出してください。",
    ),
    "sqlexport.no_id_column": (
        "the mapping has no id column; map the leads file's id column (role id) so every score can be matched to its lead.",
        "列の割り当てにID列がありません。スコアをリードと照合できるよう、リードファイルのID列を割り当ててください（役割 id）。",
    ),
    # --- applying rules to a new file (funnel.apply) ---
    "apply.score_file_filters": (
        "score FILE scores the file itself: leave out --dataset/--where/--from/--to.",
        "score FILE はそのファイル自体を採点します。--dataset・--where・--from・--to は付けないでください。",
    ),
    "apply.needs_columns": (
        "{file}: the rule set needs column(s) {columns}, which the file does not have.",
        "{file}: ルールセットが使う列 {columns} がファイルにありません。",
    ),
    "apply.needs_columns_activities": (
        "{file}: the rule set needs column(s) {columns}, which the file does not have (activity counts need the activity log: --activities FILE).",
        "{file}: ルールセットが使う列 {columns} がファイルにありません（行動の回数には行動履歴が必要です: --activities ファイル）。",
    ),
    "apply.since_needs_dates": (
        "{file}: --since {since} needs lead creation dates or an activity log (--activities FILE); this file has neither mapped.",
        "{file}: --since {since} にはリードの作成日か行動履歴（--activities ファイル）が必要ですが、このファイルにはどちらも割り当てられていません。",
    ),
    "apply.sql_needs_dataset": (
        "{file} carries no mapping: say which dataset it was made for (--dataset NAME), or export the version from funnel.",
        "{file} には列の割り当てが含まれていません。作成に使ったデータセットを指定する（--dataset 名前）か、funnel からバージョンを書き出してください。",
    ),
    "apply.no_mapping": (
        "{file}: the rule set file carries no mapping; the columns were mapped automatically (export the version from funnel to keep the tuned mapping).",
        "{file}: ルールセットのファイルに列の割り当てがないため、列を自動で割り当てました（調整時の割り当てを使うには funnel からバージョンを書き出してください）。",
    ),
    "webhook.bad_url": (
        "{url}: a webhook address must start with http:// or https://.",
        "{url}: Webhook のアドレスは http:// または https:// で始めてください。",
    ),
    "webhook.refused": (
        "{url} refused the hot leads: HTTP {http} {reason}. Nothing was delivered; check the address and the receiving side, then run again.",
        "{url} がホットリードを受け付けませんでした: HTTP {http} {reason}。何も送信されていません。アドレスと受信側を確認して、もう一度実行してください。",
    ),
    "webhook.unreachable": (
        "{url} could not be reached ({reason}). Nothing was delivered; run again when it is up.",
        "{url} に接続できませんでした（{reason}）。何も送信されていません。接続できるようになったら、もう一度実行してください。",
    ),
    "webhook.status": (
        "{url} answered HTTP {status}; the hot leads may not be delivered.",
        "{url} から HTTP {status} が返りました。ホットリードが届いていない可能性があります。",
    ),
    # --- rule-set versions (funnel.versions) ---
    "versions.missing": (
        "There is no saved version #{id}. List them with: funnel rules list",
        "保存済みのバージョン #{id} はありません。一覧: funnel rules list",
    ),
    "versions.need_dataset": (
        "Say which dataset's current version you mean (--dataset NAME).",
        "どのデータセットの現行バージョンか指定してください(--dataset 名前)。",
    ),
    "versions.no_current": (
        "Dataset {dataset} has no agreed version yet: propose one and have marketing and sales sign it.",
        "データセット {dataset} には合意済みのバージョンがまだありません。提案して、マーケティングと営業の承認を得てください。",
    ),
    "versions.unknown_ref": (
        "No version matches {ref}. Use its number (#12), 'current', or 'name v3'.",
        "{ref} に一致するバージョンがありません。番号(#12)、current、または「名前 v3」で指定してください。",
    ),
    "versions.not_draft": (
        "{label} is already {status}; only a draft can be proposed. Save a new version to change it.",
        "{label} はすでに {status} です。提案できるのは下書きだけです。変更するには新しいバージョンを保存してください。",
    ),
    "versions.bad_role": (
        "Unknown role {role}; sign as one of: {roles}.",
        "役割 {role} は使えません。次のいずれかで承認してください: {roles}。",
    ),
    "versions.sign_draft": (
        "{label} is a draft: propose it first, then each side signs.",
        "{label} は下書きです。先に提案してから、それぞれが承認してください。",
    ),
    "versions.already_signed": (
        "{label} is already signed for {role} by {name}; a sign-off is never replaced.",
        "{label} は {role} として {name} がすでに承認しています。承認は置き換えられません。",
    ),
    "versions.same_person": (
        "{name} has already signed for the other side; marketing and sales need two different people.",
        "{name} はすでにもう一方の立場で承認しています。マーケティングと営業は別の人が承認してください。",
    ),
    "versions.none": (
        "No rule set has been saved yet. Save one from the Tuner, or: funnel rules save --rules R.yaml --dataset NAME --author YOU",
        "保存済みのルールセットはまだありません。チューナーから保存するか、funnel rules save --rules R.yaml --dataset 名前 --author 名前 を実行してください。",
    ),
    "versions.saved": (
        "Saved {label} as a draft (#{id}). Next: propose it, then marketing and sales each sign.",
        "{label} を下書きとして保存しました(#{id})。次は提案し、マーケティングと営業がそれぞれ承認します。",
    ),
    "versions.what.author": ("author", "作成者"),
    "versions.what.name": ("name", "名前"),
    "versions.what.rationale": ("rationale", "理由"),
    "versions.what.comment": ("comment", "コメント"),
    "versions.empty": ("Fill in the {what}.", "{what} を入力してください。"),
    "versions.too_long": (
        "The {what} is too long (at most {limit} characters).",
        "{what} が長すぎます({limit} 文字まで)。",
    ),
    "versions.imported": (
        "Imported from {file} ({label}, {status} there).",
        "{file} から取り込み({label}、取り込み元では {status})。",
    ),
    "versions.imported_plain": ("Imported from {file}.", "{file} から取り込み。"),
    "tuner.decay": ("Decay of activity points", "行動ポイントの減衰"),
    "tuner.half_life": ("Half-life in days (0 = no decay)", "半減期(日、0 = 減衰なし)"),
    "tuner.half_life_help": (
        "Points from the activity log halve every this many days since the activity, counted back from the log's last activity ({last}).",
        "行動履歴による点数が、行動からこの日数ごとに半減します(履歴の最終日 {last} から数えます)。",
    ),
    "rule.decay": (
        "Points from the activity log halve every {days} days since the activity",
        "行動履歴による点数は {days} 日ごとに半減します",
    ),
    "rule.score_cap": ("The score is capped at {cap}", "スコアの上限は {cap} 点"),
    "rule.tier": ("{tier}: score {score} or more", "{tier}: スコア {score} 点以上"),
    "rule.tier_rest": ("{tier}: every other lead", "{tier}: それ以外のリード"),
    # --- tuner ---
    "page.tuner": ("Tuner", "チューナー"),
    "page.rulesets": ("Rule sets", "ルールセット"),
    "rulesets.title": ("Agreed rule sets", "合意したルールセット"),
    "rulesets.help": (
        "Every saved version, newest first. A version is never changed: propose a draft, then marketing and sales each sign it. The version agreed last is current.",
        "保存したすべてのバージョン(新しい順)。バージョンは変更されません。下書きを提案し、マーケティングと営業がそれぞれ承認します。最後に合意したバージョンが現行です。",
    ),
    "rulesets.current": ("current", "現行"),
    "rulesets.import": ("Import a rule set file", "ルールセットのファイルを取り込む"),
    "rulesets.import_file": (
        "A YAML or JSON rule set (e.g. exported from funnel)",
        "YAML または JSON のルールセット(funnel から書き出したものなど)",
    ),
    "rulesets.import_button": ("Import as a new draft", "新しい下書きとして取り込む"),
    "rulesets.import_none": ("Choose a file first.", "先にファイルを選んでください。"),
    "rulesets.import_too_big": (
        "{file} is too large for a rule set (at most 2 MB).",
        "{file} はルールセットとしては大きすぎます(2 MB まで)。",
    ),
    "rulesets.import_not_text": (
        "{file} is not UTF-8 text; a rule set file is YAML or JSON.",
        "{file} は UTF-8 のテキストではありません。ルールセットは YAML か JSON です。",
    ),
    "rulesets.col.version": ("Version", "バージョン"),
    "rulesets.col.saved": ("Saved", "保存日時"),
    "rulesets.col.change": ("Change", "変更"),
    "rulesets.col.score": ("score", "スコア"),
    "rulesets.col.outcome": ("Outcome", "結果"),
    "rulesets.pick": ("Version", "バージョン"),
    "rulesets.meta": (
        "{status} · by {author} · saved {saved} · effective from {effective} · tuned on {tuned_on} (data {fingerprint})",
        "{status} · 作成者 {author} · 保存 {saved} · 適用開始 {effective} · 調整に使ったデータ {tuned_on}({fingerprint})",
    ),
    "rulesets.metrics_then": (
        "Metrics when it was saved (whole dataset)",
        "保存時の指標(データセット全体)",
    ),
    "rulesets.your_name": ("Your name", "あなたの名前"),
    "rulesets.comment": ("Comment (optional)", "コメント(任意)"),
    "rulesets.propose": ("Propose for sign-off", "承認を依頼する"),
    "rulesets.sign_as": ("Sign as", "承認する立場"),
    "rulesets.sign": ("Sign", "承認する"),
    "rulesets.is_agreed": (
        "Agreed by marketing and sales.",
        "マーケティングと営業が合意しました。",
    ),
    "rulesets.done.propose": (
        "Proposed. Marketing and sales can now sign it.",
        "提案しました。マーケティングと営業が承認できます。",
    ),
    "rulesets.done.sign": ("Signed.", "承認しました。"),
    "rulesets.open": ("Open in the tuner", "チューナーで開く"),
    "rulesets.exports": ("Take it away", "書き出し"),
    "rulesets.dl.yaml": ("Rule set (YAML)", "ルールセット(YAML)"),
    "rulesets.dl.json": ("Rule set (JSON)", "ルールセット(JSON)"),
    "rulesets.dl.report": ("Meeting report (HTML)", "会議レポート(HTML)"),
    "rulesets.dl.handoff_csv": ("Hot leads for sales (CSV)", "営業向けホットリード(CSV)"),
    "rulesets.dl.handoff_xlsx": ("Hot leads for sales (Excel)", "営業向けホットリード(Excel)"),
    "rulesets.dl.sql": ("SQL for your warehouse", "データウェアハウス用 SQL"),
    "rulesets.dialect": ("SQL dialect", "SQL の方言"),
    "rulesets.table": ("Table holding the raw leads", "元のリードを格納したテーブル"),
    "rulesets.activities_table": (
        "Table holding the raw activity log",
        "元の行動履歴を格納したテーブル",
    ),
    "rulesets.show_sql": ("Show the SQL", "SQL を表示"),
    "rulesets.diff": ("Compare with another version", "別のバージョンと比較"),
    "rulesets.diff_need_two": (
        "Save a second version to compare them.",
        "比較するには 2 つ目のバージョンを保存してください。",
    ),
    "rulesets.diff_from": ("Compare from", "比較元"),
    "rulesets.diff_to": ("to {label}", "比較先: {label}"),
    "rulesets.diffing": ("Comparing on the current data…", "現在のデータで比較しています…"),
    "rulesets.diff_metrics": (
        "Both measured on the same data: {dataset} as loaded now",
        "どちらも同じデータ(現在の {dataset})で測定",
    ),
    "rulesets.moves": ("Leads whose tier changes: {count}", "ティアが変わるリード: {count} 件"),
    "tuner.save": ("Save as a version", "バージョンとして保存"),
    "tuner.save_help": (
        "Saves the rule set shown above as a new draft in the history (metrics are measured on the whole dataset). Propose and sign it on the Rule sets page.",
        "上のルールセットを新しい下書きとして履歴に保存します(指標はデータセット全体で測定)。ルールセットのページで提案・承認します。",
    ),
    "tuner.save_name": ("Rule set name", "ルールセット名"),
    "tuner.save_default_name": ("hot lead definition", "ホットリードの定義"),
    "tuner.save_button": ("Save version", "バージョンを保存"),
    "tuner.title": ("Hot-lead tuner", "ホットリード・チューナー"),
    "tuner.proposal": ("Proposal", "提案"),
    "tuner.proposal.marketing": ("Marketing", "マーケティング"),
    "tuner.proposal.sales": ("Sales", "営業"),
    "tuner.from_data": ("Start from the data", "データから作成"),
    "tuner.from_data_help": (
        "Fit a regularised logistic regression on past outcomes (never on leaking columns), "
        "turn it into points, and check it on leads it was not fitted on.",
        "過去の結果に正則化ロジスティック回帰を当てはめ（受注後にしか分からない列は使いません）、"
        "配点に変換して、学習に使っていないリードで確かめます。",
    ),
    "tuner.fitting": ("Fitting on past outcomes…", "過去の結果から学習しています…"),
    "tuner.template": ("Simple template", "シンプルなテンプレート"),
    "tuner.copy": ("Copy to {other}", "{other}にコピー"),
    "tuner.copied": ("Copied to the {other} proposal.", "{other}の提案にコピーしました。"),
    "tuner.suggested": (
        "Loaded the suggestion from the data. On the holdout ({split}, {n} leads) its AUC is "
        "{auc}, against {base} for {baseline}.",
        "データからの提案を読み込みました。検証用データ（{split}、{n} 件）での AUC は {auc}、"
        "{baseline} は {base} です。",
    ),
    "tuner.suggested_no_better": (
        "Loaded the suggestion from the data, but it does no better than the rules it replaced: "
        "on the holdout ({split}, {n} leads) its AUC is {auc}, against {base} for {baseline}. "
        "Put those rules back, or tune this one by hand.",
        "データからの提案を読み込みましたが、置き換える前のルールより良くなっていません。"
        "検証用データ（{split}、{n} 件）での AUC は {auc}、{baseline} は {base} です。"
        "元のルールに戻すか、この提案を手で調整してください。",
    ),
    "tuner.restore": ("Put the previous rules back", "元のルールに戻す"),
    "tuner.template_empty": (
        "The simple template scores behaviour columns named like visits, document downloads, "
        "newsletter sign-ups or inquiries, and this dataset has none, so your rules are "
        "unchanged. Start from the data, or add rules below.",
        "シンプルなテンプレートは、訪問・資料ダウンロード・メルマガ登録・問い合わせといった名前の"
        "行動列に配点しますが、このデータセットにはないため、ルールはそのままです。"
        "「データから作成」するか、下でルールを追加してください。",
    ),
    "tuner.split.time": ("leads created since {since}", "{since} 以降に作成されたリード"),
    "tuner.split.random": ("a random quarter of leads", "無作為に選んだ 4 分の 1 のリード"),
    "tuner.rules": ("Points", "配点"),
    "tuner.no_rules": (
        "No rule yet: start from the data, or add a rule below.",
        "ルールがありません。「データから作成」するか、下でルールを追加してください。",
    ),
    "tuner.remove": ("Remove this rule", "このルールを削除"),
    "tuner.add_rule": ("Add a rule", "ルールを追加"),
    "tuner.add_gate": ("Add a knock-out gate", "除外条件を追加"),
    "tuner.column": ("Column", "列"),
    "tuner.kind": ("Kind", "種類"),
    "tuner.kind.per_unit": ("Points per unit", "1 回ごとの点"),
    "tuner.kind.count": ("Points for reaching a count", "回数に達したら加点"),
    "tuner.kind.range": ("Points for a range", "範囲内なら加点"),
    "tuner.points": ("Points", "点数"),
    "tuner.cap": ("At most (points)", "上限（点）"),
    "tuner.at_least": ("At least", "以上"),
    "tuner.low": ("From", "下限"),
    "tuner.high": ("Under", "上限（未満）"),
    "tuner.value": ("Value", "値"),
    "tuner.values": ("Values", "値"),
    "tuner.add": ("Add", "追加"),
    "tuner.gates": ("Knock-out gates", "除外条件"),
    "tuner.gates_help": (
        "A lead matching a gate is never hot, whatever its score (competitor, student, no budget…).",
        "除外条件に当てはまるリードは、スコアにかかわらずホットにしません（競合、学生、予算なし など）。",
    ),
    "tuner.thresholds": ("Tiers and sales capacity", "ランクと営業キャパシティ"),
    "tuner.threshold": ("{tier}: from score", "{tier}: スコア下限"),
    "tuner.tier_names": ("Tier names", "ランク名"),
    "tuner.tier_name": ("Tier {n}", "ランク {n}"),
    "tuner.tier_names_invalid": (
        "Tier names must be filled in and different; the previous names are kept.",
        "ランク名は空にせず、重複しないようにしてください。以前の名前のままにします。",
    ),
    "tuner.reps": ("Sales reps", "営業担当の人数"),
    "tuner.per_rep": ("Leads each can work per week", "1 人が週に対応できるリード数"),
    "tuner.target": ("Target hot conversion", "ホットの目標転換率"),
    "tuner.fill_capacity": ("Fill sales capacity", "営業キャパシティに合わせる"),
    "tuner.reach_target": ("Reach target conversion", "目標転換率に合わせる"),
    "tuner.no_capacity_fit": (
        "No threshold fits that capacity (or the data has no dates).",
        "そのキャパシティに収まるしきい値がありません（または日付がありません）。",
    ),
    "tuner.no_target_fit": (
        "No threshold reaches that conversion with these points.",
        "この配点ではその転換率に届くしきい値がありません。",
    ),
    "tuner.results": ("What this definition would have done", "この定義だった場合の実績"),
    "tuner.m.hot": ("Hot leads", "ホットリード数"),
    "tuner.m.hot_rate": ("Hot conversion", "ホットの転換率"),
    "tuner.m.lift": ("Lift vs base rate", "全体比リフト"),
    "tuner.m.recall": ("Won deals that were hot", "受注のうちホットだった割合"),
    "tuner.m.missed": ("Won deals missed", "取りこぼした受注"),
    "tuner.m.auc": ("AUC", "AUC"),
    "tuner.precision": ("Hot conversion (precision)", "ホットの転換率（適合率）"),
    "tuner.capacity_fit": (
        "{per_week} hot leads per week: fits the sales capacity of {capacity}.",
        "ホットリードは週 {per_week} 件で、営業キャパシティ {capacity} 件に収まります。",
    ),
    "tuner.capacity_over": (
        "{per_week} hot leads per week: more than the sales capacity of {capacity}.",
        "ホットリードは週 {per_week} 件で、営業キャパシティ {capacity} 件を超えます。",
    ),
    "tuner.no_weeks": (
        "The dataset has no dates, so hot leads per week cannot be compared with capacity.",
        "日付がないため、週あたりのホットリード数とキャパシティは比較できません。",
    ),
    "tuner.moved": (
        "Since the last change: {entered} leads became hot, {left} stopped being hot.",
        "直前の変更で、{entered} 件がホットになり、{left} 件がホットでなくなりました。",
    ),
    "tuner.tab.tiers": ("Tiers", "ランク"),
    "tuner.tab.deciles": ("By score decile", "スコア十分位"),
    "tuner.tab.curve": ("Precision and recall", "適合率と再現率"),
    "tuner.tab.matrix": ("Fit × engagement", "適合度 × 関与度"),
    "tuner.tab.compare": ("Marketing vs sales", "マーケティング vs 営業"),
    "tuner.matrix_needs_both": (
        "The matrix needs both fit rules (attributes) and engagement rules (behaviours).",
        "マトリクスには適合度のルール（属性）と関与度のルール（行動）の両方が必要です。",
    ),
    "tuner.matrix_help": (
        "Fit points (A = top third) against engagement points (1 = top third): conversion and "
        "leads per cell, A1 being the best of both.",
        "適合度の点数（A = 上位 3 分の 1）と関与度の点数（1 = 上位 3 分の 1）の組み合わせごとの転換率とリード数。"
        "A1 が両方とも最良です。",
    ),
    "tuner.fit": ("Fit (attributes)", "適合度（属性）"),
    "tuner.engagement": ("Engagement (behaviours)", "関与度（行動）"),
    "tuner.col.tier": ("Tier", "ランク"),
    "tuner.col.share": ("Share", "割合"),
    "tuner.col.proposal": ("Proposal", "提案"),
    "tuner.col.cell": ("Hot in", "ホットとした提案"),
    "tuner.not_monotonic": (
        "Conversion is not monotonic across score deciles (blue bars rise): some points may "
        "be rewarding the wrong things.",
        "スコア十分位で転換率が単調に下がっていません（青い棒が上昇）。配点が的外れな可能性があります。",
    ),
    "tuner.decile": ("Score decile (1 = highest)", "スコア十分位（1 = 最高）"),
    "tuner.score": ("Hot threshold (score)", "ホットのしきい値（スコア）"),
    "tuner.explain": ("Explain a lead", "リードのスコアを説明"),
    "tuner.lead_id": ("Lead id", "リードID"),
    "tuner.no_lead": ("No lead has that id.", "そのIDのリードはありません。"),
    "tuner.explained": (
        "Score {score} → {tier} (outcome: {outcome})",
        "スコア {score} → {tier}（結果: {outcome}）",
    ),
    "tuner.rule": ("Rule", "ルール"),
    "tuner.show_missed": (
        "Show the won deals it misses ({count})",
        "取りこぼした受注を表示（{count} 件）",
    ),
    "tuner.compare": ("Marketing and sales side by side", "マーケティングと営業の提案を比較"),
    "tuner.cell.both": ("Both", "両方"),
    "tuner.cell.only": ("Only {name}", "{name}のみ"),
    "tuner.cell.neither": ("Neither", "どちらでもない"),
    "tuner.definition": ("This definition in words", "この定義の説明"),
    # --- the command line (funnel.cli) ---
    "cli.error": ("error: {message}", "エラー: {message}"),
    "cli.warning": ("warning: {message}", "警告: {message}"),
    "cli.note": ("note: {message}", "注意: {message}"),
    "cli.fix": ("  fix: {fix}", "  対処: {fix}"),
    "cli.interrupted": (
        "interrupted: nothing was changed.",
        "中断しました。何も変更していません。",
    ),
    "cli.internal_error": ("internal error: {error}", "内部エラー: {error}"),
    "cli.debug_hint": (
        "Set FUNNEL_DEBUG=1 to see the details, and please report it.",
        "FUNNEL_DEBUG=1 を設定すると詳細が表示されます。お手数ですが、不具合としてご報告ください。",
    ),
    "cli.add_yes": ("{prompt} (add --yes)", "{prompt}（削除するには --yes を付けてください）"),
    "cli.wrote": ("wrote {file}", "{file} を書き出しました"),
    "cli.suggest_no_better": (
        "on the holdout the suggestion does no better than the simple template (AUC {auc} "
        "against {base}); keep the template, or tune the suggestion by hand.",
        "検証用データでは、提案はシンプルなテンプレートより良くなっていません（AUC {auc}、"
        "テンプレートは {base}）。テンプレートを使い続けるか、提案を手で調整してください。",
    ),
    "cli.template_empty": (
        "the simple template found no behaviour column named like visits, downloads, "
        "newsletter sign-ups or inquiries in {dataset}, so the file has no rules yet: add "
        "rules to it, or start from the data with funnel suggest.",
        "{dataset} には訪問・資料ダウンロード・メルマガ登録・問い合わせといった名前の行動列がないため、"
        "シンプルなテンプレートにはまだルールがありません。ルールを書き足すか、funnel suggest で"
        "データから作成してください。",
    ),
    "cli.wrote_leads": ("wrote {n} leads to {file}", "{file} にリード {n} 件を書き出しました"),
    "cli.wrote_scored": (
        "wrote {n} scored leads to {file}",
        "{file} に採点したリード {n} 件を書き出しました",
    ),
    "cli.hot_count": ("{n} hot leads", "ホットリード {n} 件"),
    "cli.posted": (
        "posted {n} hot leads to {url} (HTTP {status})",
        "ホットリード {n} 件を {url} に送信しました（HTTP {status}）",
    ),
    "cli.unknown_values": (
        "{file}: value(s) the dataset {name} never holds: {values}",
        "{file}: データセット {name} にない値があります（このルールは適用されません）: {values}",
    ),
    "cli.col.name": ("name", "名前"),
    "cli.col.leads": ("leads", "リード数"),
    "cli.col.won": ("won", "受注"),
    "cli.col.lost": ("lost", "失注"),
    "cli.col.open": ("open", "商談中"),
    "cli.col.loaded_at": ("loaded_at", "取り込み日時"),
    "cli.col.stage": ("stage", "ステージ"),
    "cli.col.from_prev": ("from prev", "前段から"),
    "cli.col.from_first": ("from first", "最初から"),
    "cli.col.drop_off": ("drop-off", "離脱数"),
    "cli.col.segment": ("segment", "セグメント"),
    "cli.col.conv": ("conv", "転換数"),
    "cli.col.rate": ("rate", "転換率"),
    "cli.col.ci": ("95% CI", "95% 信頼区間"),
    "cli.col.lift": ("lift", "リフト"),
    "cli.all_leads": ("all leads", "すべてのリード"),
    "cli.cohorts": (
        "cohorts ({target}; p90 days to convert: {days})",
        "月別コホート（{target}、転換までの日数の 90 パーセンタイル: {days} 日）",
    ),
    "cli.immature": ("  (immature)", "  （まだ確定していません）"),
    "cli.time_to_convert": (
        "{a} -> {b}: median {days} days (n={n})",
        "{a} → {b}: 中央値 {days} 日（n={n}）",
    ),
    "cli.segments_title": (
        "{name} ({filters}): {a} -> {b} by {by}; overall {rate} of {n}",
        "{name}（{filters}）: {a} → {b} の転換率（{by} 別）。全体 {rate}（{n} 件中）",
    ),
    "cli.flag.small": (" small", " 少数"),
    "cli.flag.best": (" best", " 最高"),
    "cli.flag.worst": (" worst", " 最低"),
    "cli.evaluate_title": (
        "{name}: {rules} — {n} leads, base rate {rate}",
        "{name}: {rules} — リード {n} 件、全体の転換率 {rate}",
    ),
    "cli.evaluate_tier": (
        "  {tier} {n} leads ({share})  won {won}  {rate} [{low}–{high}]",
        "  {tier} {n} 件（{share}）  受注 {won}  {rate} [{low}–{high}]",
    ),
    "cli.evaluate_metrics": (
        "  precision {precision}  recall {recall}  lift {lift}  AUC {auc}  won deals not hot: {missed}",
        "  適合率 {precision}  再現率 {recall}  リフト {lift}  AUC {auc}  ホットでなかった受注: {missed} 件",
    ),
    "cli.per_week": ("  hot leads per week: {n}{fits}", "  週あたりのホットリード: {n} 件{fits}"),
    "cli.fits_capacity": (" (fits capacity)", "（営業キャパシティ内）"),
    "cli.over_capacity": (" (over capacity)", "（営業キャパシティ超過）"),
    "cli.not_monotonic": (
        "  note: conversion is not monotonic across score deciles",
        "  注意: スコア十分位で転換率が単調に下がっていません",
    ),
    "cli.status.draft": ("draft", "下書き"),
    "cli.status.proposed": ("proposed", "提案中"),
    "cli.status.agreed": ("agreed", "合意済み"),
    "cli.current": (" (current)", "（現行）"),
    "cli.role.marketing": ("marketing", "マーケティング"),
    "cli.role.sales": ("sales", "営業"),
    "cli.show_metrics": (
        "  hot {hot}  precision {precision}  recall {recall}  AUC {auc}",
        "  ホットリード {hot} 件  適合率 {precision}  再現率 {recall}  AUC {auc}",
    ),
    "cli.diff_title": ("{a} → {b} on {dataset}", "{a} → {b}（データセット {dataset} で比較）"),
    "cli.change.added": ("added", "追加"),
    "cli.change.removed": ("removed", "削除"),
    "cli.change.changed": ("changed", "変更"),
    "cli.no_rule_changes": ("  no rule changes", "  ルールの変更はありません"),
    "cli.metric.hot": ("hot", "ホットリード数"),
    "cli.metric.precision": ("precision", "適合率"),
    "cli.metric.recall": ("recall", "再現率"),
    "cli.metric.lift": ("lift", "リフト"),
    "cli.metric.auc": ("auc", "AUC"),
    "cli.metric.missed_won": ("missed_won", "取りこぼした受注"),
    "cli.metric.hot_per_week": ("hot_per_week", "週あたりホット"),
    "cli.tier_move": ("  {n} leads {a} → {b}", "  {n} 件: {a} → {b}"),
    "cli.split.time": ("time", "期間で分割"),
    "cli.split.random": ("random", "無作為に分割"),
    "rules.name.template": ("simple template", "シンプルなテンプレート"),
    "rules.name.suggested": ("suggested from data", "データからの提案"),
    "cli.suggested": (
        "wrote {file}: {rules} rules; holdout ({split} split, {n} leads) AUC {auc} vs {baseline} {base}",
        "{file} を書き出しました: ルール {rules} 件。検証用データ（{split}、{n} 件）での AUC は {auc}、{baseline} は {base}",
    ),
    # --- progress ---
    "progress.read": ("Reading files…", "ファイルを読み込んでいます…"),
    "progress.map": ("Proposing the column mapping…", "列の割り当てを推定しています…"),
    "progress.validate": ("Validating every row…", "すべての行を検証しています…"),
    "progress.type": ("Typing columns…", "列の型を変換しています…"),
    "progress.store": ("Storing the dataset…", "データセットを保存しています…"),
    "progress.done": ("Done.", "完了しました。"),
    "progress.generate": ("Generating demo leads…", "デモ用のリードを生成しています…"),
    # --- roles ---
    "role.id": ("Lead id", "リードID"),
    "role.created": ("Created date", "作成日"),
    "role.source": ("Source / channel", "流入元・チャネル"),
    "role.outcome": ("Outcome (won/lost)", "結果（受注／失注）"),
    "role.stage": ("Stage date", "ステージ到達日"),
    "role.closed": ("Closed date", "完了日"),
    "role.amount": ("Deal amount", "金額"),
    "role.attribute": ("Attribute (category)", "属性（カテゴリ）"),
    "role.number": ("Attribute (number)", "属性（数値）"),
    "role.behaviour": ("Behaviour (count)", "行動（回数）"),
    "role.ignore": ("Keep, not used", "保持のみ（未使用）"),
    "stage.lead": ("Lead", "リード"),
    "stage.mql": ("MQL", "MQL"),
    "stage.sql": ("SQL", "SQL"),
    "stage.opportunity": ("Opportunity", "商談"),
    "stage.won": ("Won", "受注"),
    "severity.error": ("Error", "エラー"),
    "severity.warning": ("Warning", "警告"),
    "severity.info": ("Note", "お知らせ"),
    # --- app shell ---
    "app.title": ("funnel", "funnel"),
    "app.tagline": (
        "Where marketing and sales agree, with data, on what a hot lead is.",
        "マーケティングと営業が、データで「ホットリード」の定義に合意する場所。",
    ),
    "app.language": ("Language", "言語"),
    "ui.choose": ("Choose…", "選択してください"),
    "app.dataset": ("Dataset", "データセット"),
    "app.no_datasets": ("No dataset yet", "データセットがありません"),
    "app.db_path": ("Database: {path}", "データベース: {path}"),
    "page.overview": ("Overview", "概要"),
    "page.data": ("Data", "データ"),
    # --- overview ---
    "overview.title": ("Overview", "概要"),
    "overview.empty": (
        "No datasets yet. Load your CRM export on the Data page, or create the demo dataset.",
        "データセットがまだありません。データページでCRMのエクスポートを取り込むか、デモデータを作成してください。",
    ),
    "overview.create_demo": (
        "Create the demo dataset (50,000 leads)",
        "デモデータを作成（50,000 件）",
    ),
    "overview.demo_created": (
        "Demo dataset {name} created.",
        "デモデータセット {name} を作成しました。",
    ),
    "overview.leads": ("Leads", "リード数"),
    "overview.won": ("Won", "受注"),
    "overview.lost": ("Lost / not won", "失注・未受注"),
    "overview.open": ("Open", "商談中"),
    "overview.win_rate": ("Lead → won", "リード→受注率"),
    "overview.loaded_at": ("Loaded", "取り込み日時"),
    "overview.columns": ("Columns", "列数"),
    "overview.all_datasets": ("All datasets", "すべてのデータセット"),
    "overview.name": ("Name", "名前"),
    "overview.files": ("Loaded from {files}", "取り込み元: {files}"),
    "overview.notes": ("Notes from loading", "取り込み時のお知らせ"),
    "overview.mapping": (
        "Columns: what each one means, and which are not lead features",
        "列の役割と、リードの特徴に使わない列",
    ),
    # --- data page ---
    "data.title": ("Data", "データ"),
    "data.intro": (
        "Load a CRM or marketing-automation export: CSV/TSV (UTF-8 or Shift_JIS), Excel "
        ".xlsx or Parquet. Outcomes can be a column of the leads file or a separate file.",
        "CRM・MAのエクスポートを取り込みます。CSV/TSV（UTF-8・Shift_JIS）、Excel（.xlsx）、"
        "Parquet に対応。結果はリードファイルの列でも、別ファイルでも構いません。",
    ),
    "data.load_header": ("Load a file", "ファイルを取り込む"),
    "data.leads_file": ("Leads file", "リードファイル"),
    "data.outcomes_file": (
        "Outcomes file (optional: won/lost deals)",
        "結果ファイル（任意: 受注・失注案件）",
    ),
    "data.activities_file": (
        "Activity log (optional: lead id, timestamp, activity type)",
        "行動ログ（任意: リードID・日時・行動種別）",
    ),
    "data.dataset_name": ("Dataset name", "データセット名"),
    "data.mapping_header": ("Confirm the column mapping", "列の割り当てを確認"),
    "data.mapping_help": (
        'funnel proposed a role for every column. Change any role, and tick "not a lead '
        'feature" for columns known only after the sale.',
        "すべての列の役割を推定しました。必要なら変更し、受注後にしか分からない列には"
        "「リードの特徴に使わない」を付けてください。",
    ),
    "data.col.column": ("Column", "列"),
    "data.col.role": ("Role", "役割"),
    "data.col.stage": ("Stage", "ステージ"),
    "data.col.leak": ("Not a lead feature", "リードの特徴に使わない"),
    "data.col.reason": ("Why flagged", "理由"),
    "data.col.sample": ("Sample values", "値の例"),
    "data.outcome_header": ("Outcome values", "結果の値"),
    "data.outcome_column": ("Outcome column: {column} ({file})", "結果の列: {column}（{file}）"),
    "data.outcome_won_only": (
        "The outcomes file lists only won deals: every lead absent from it is not won.",
        "結果ファイルは受注案件のみです。載っていないリードは未受注として扱います。",
    ),
    "data.outcome_none": (
        "No outcome column found. Pick one (or add an outcomes file):",
        "結果の列が見つかりません。選択するか、結果ファイルを追加してください:",
    ),
    "data.outcome_pick": ("Outcome column", "結果の列"),
    "data.none": ("(none)", "（なし）"),
    "data.won_values": ("Values meaning won", "受注を表す値"),
    "data.lost_values": ("Values meaning lost", "失注を表す値"),
    "data.open_values": ("Values meaning still open", "商談中を表す値"),
    "data.placeholders": (
        'Values meaning "missing" (comma-separated)',
        "欠損を表す値（カンマ区切り）",
    ),
    "data.keep_last": (
        "Keep the last row when an id repeats",
        "IDが重複したら最後の行を使う",
    ),
    "data.first_stage": ("First funnel stage of these leads", "これらのリードの最初のステージ"),
    "data.load_button": ("Load dataset", "データセットを取り込む"),
    "data.loaded": (
        "Stored {name}: {leads} leads — {won} won, {lost} lost, {open} open.",
        "{name} を保存しました: リード {leads} 件（受注 {won}・失注 {lost}・商談中 {open}）。",
    ),
    "data.failed": (
        "Nothing was stored: fix these problems in the file and load it again.",
        "何も保存していません。ファイルの以下の問題を直して、もう一度取り込んでください。",
    ),
    "data.notes": ("Notes", "お知らせ"),
    "data.col.severity": ("Severity", "重要度"),
    "data.col.file": ("File", "ファイル"),
    "data.col.rows": ("Rows (header = row 1)", "行（見出し = 1 行目）"),
    "data.col.values": ("Values", "値"),
    "data.col.message": ("Problem", "内容"),
    "data.col.fix": ("How to fix", "直し方"),
    "data.read_info": (
        "{file}: {rows} rows, {cols} columns ({format}{encoding}).",
        "{file}: {rows} 行・{cols} 列（{format}{encoding}）。",
    ),
    "data.stored_header": ("Stored datasets", "保存済みデータセット"),
    "data.rename": ("Rename", "名前を変更"),
    "data.new_name": ("New name", "新しい名前"),
    "data.renamed": ("Renamed to {name}.", "{name} に名前を変更しました。"),
    "data.delete": ("Delete", "削除"),
    "data.delete_confirm": (
        "Really delete {name} and its {leads} leads? This cannot be undone.",
        "{name}（リード {leads} 件）を削除しますか？ 元に戻せません。",
    ),
    "data.delete_yes": ("Yes, delete it", "削除する"),
    "data.cancel": ("Cancel", "キャンセル"),
    "data.deleted": ("Deleted {name}.", "{name} を削除しました。"),
    "data.no_datasets": (
        "No dataset stored yet: upload a file above.",
        "保存済みのデータセットはありません。上からファイルをアップロードしてください。",
    ),
    "data.upload_first": (
        "Upload a leads file to start. Try one of the files in the README's \"Load your own "
        'data" section.',
        "まずリードファイルをアップロードしてください。",
    ),
    "data.cli_hint": (
        "Same from the command line: funnel load FILE [--outcomes FILE] --dataset NAME",
        "コマンドラインでも同じことができます: funnel load ファイル [--outcomes ファイル] --dataset 名前",
    ),
    # --- meeting report (funnel.report) ---
    "report.status": ("Status", "ステータス"),
    "report.status.draft": ("Draft", "下書き"),
    "report.status.proposed": ("Proposed", "提案中"),
    "report.status.agreed": ("Agreed", "合意済み"),
    "report.version": ("Version", "バージョン"),
    "report.author": ("Author", "作成者"),
    "report.effective_from": ("Effective from", "適用開始日"),
    "report.dataset": ("Dataset", "データセット"),
    "report.fingerprint": ("Data fingerprint", "データのフィンガープリント"),
    "report.generated_at": ("Generated", "作成日時"),
    "report.definition": ("Definition of a hot lead", "ホットリードの定義"),
    "report.rule_set": ("Rule set", "ルールセット"),
    "report.rationale": ("Why", "理由"),
    "report.metrics": ("Results on past leads", "過去のリードでの結果"),
    "report.metrics_note": (
        "What this definition would have done on {n} past leads ({won} won).",
        "過去のリード {n} 件（受注 {won} 件）にこの定義を当てはめた結果です。",
    ),
    "report.col.metric": ("Metric", "指標"),
    "report.col.value": ("Value", "値"),
    "report.col.tier": ("Tier", "ランク"),
    "report.col.leads": ("Leads", "リード数"),
    "report.col.share": ("Share", "割合"),
    "report.col.won": ("Won", "受注数"),
    "report.col.rate": ("Conversion", "転換率"),
    "report.col.ci": ("95% interval", "95%信頼区間"),
    "report.col.decile": ("Score decile (1 = highest)", "スコア十分位（1 = 最高）"),
    "report.col.stage": ("Stage", "ステージ"),
    "report.col.from_previous": ("From previous stage", "前ステージから"),
    "report.m.leads": ("Leads evaluated", "評価したリード数"),
    "report.m.won": ("Won deals", "受注数"),
    "report.m.base_rate": ("Base rate (all leads)", "全体の転換率（ベースレート）"),
    "report.m.hot": ("Hot leads", "ホットリード数"),
    "report.m.precision": ("Hot conversion (precision)", "ホットの転換率（適合率）"),
    "report.m.recall": ("Won deals that were hot (recall)", "受注のうちホットだった割合（再現率）"),
    "report.m.lift": ("Lift vs base rate", "全体比リフト"),
    "report.m.auc": ("Ranking quality (AUC)", "順位付けの精度（AUC）"),
    "report.m.missed": ("Won deals missed", "取りこぼした受注"),
    "report.m.hot_per_week": ("Hot leads per week", "週あたりのホットリード数"),
    "report.not_monotonic": (
        "Conversion rises somewhere from a better score decile to a worse one: the score does not rank leads consistently.",
        "上位の十分位より下位の十分位の転換率が高い箇所があります。スコアの順位付けが一貫していません。",
    ),
    "report.charts": ("Charts", "グラフ"),
    "report.chart.funnel": ("Funnel", "ファネル"),
    "report.chart.tiers": ("Leads and conversion by tier", "ランク別のリード数と転換率"),
    "report.chart.deciles": ("Conversion by score decile", "スコア十分位別の転換率"),
    "report.signoffs": ("Sign-offs", "承認"),
    "report.role": ("Role", "部門"),
    "report.role.marketing": ("Marketing", "マーケティング"),
    "report.role.sales": ("Sales", "営業"),
    "report.col.name": ("Name", "氏名"),
    "report.col.signed_at": ("Signed at", "承認日時"),
    "report.col.comment": ("Comment", "コメント"),
    "report.not_signed": ("Not signed yet", "未承認"),
    "report.all_signed": (
        "Marketing and sales have both signed off.",
        "マーケティングと営業の両方が承認済みです。",
    ),
    "report.waiting_for": ("Still waiting for: {roles}.", "未承認: {roles}。"),
    "report.changes": ("Changes since version {number}", "バージョン {number} からの変更"),
    "report.changes_title": ("Changes", "変更点"),
    "report.first_version": (
        "This is the first agreed version: there is no earlier one to compare with.",
        "これは最初に合意するバージョンです。比較する以前のバージョンはありません。",
    ),
    "report.added": ("Added", "追加"),
    "report.removed": ("Removed", "削除"),
    "report.changed": ("Changed", "変更"),
    "report.no_rule_changes": ("No rule changed.", "ルールの変更はありません。"),
    "report.thresholds": ("Thresholds", "しきい値"),
    "report.col.before": ("Before", "変更前"),
    "report.col.after": ("After", "変更後"),
    "report.metric_changes": ("Metrics before and after", "指標の変化"),
    "report.tier_changes": ("{n} leads change tier.", "{n} 件のリードのランクが変わります。"),
    "report.moved_hot": (
        "{entered} leads become hot and {left} stop being hot.",
        "{entered} 件が新たにホットになり、{left} 件がホットでなくなります。",
    ),
    "report.footer": ("Generated by funnel on {at}.", "funnel により {at} に作成しました。"),
}

# A problem found inside another file's reader keeps its sentence: a rule-set file's YAML or
# mapping problem is RuleSetError("yaml.<code>") / RuleSetError("mappingfile.<code>"), a
# mapping file's YAML problem MappingFileError("yaml.<code>").
MESSAGES.update(
    {f"ruleset.{key}": pair for key, pair in MESSAGES.items() if key.startswith("yaml.")}
    | {f"ruleset.{key}": pair for key, pair in MESSAGES.items() if key.startswith("mappingfile.")}
    | {f"mappingfile.{key}": pair for key, pair in MESSAGES.items() if key.startswith("yaml.")}
)


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """Render a message in ``lang`` (``en`` or ``ja``); unknown keys render as the key.

    >>> t("overview.demo_created", "ja", name="demo")
    'デモデータセット demo を作成しました。'
    """
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "ja" and pair[1] else pair[0]
    return text.format_map(_Params(params)) if params else text.replace("{{", "{")


class CodedError(Exception):
    """An error whose message is chosen by a code: ``<prefix>.<code>`` in :data:`MESSAGES`.

    ``str(exc)`` is the English message, ``message(lang)`` the reader's; subclasses set
    ``prefix`` and may put the parameters in the reader's words (:meth:`localized`).

    >>> class E(CodedError, ValueError):
    ...     prefix = "overview"
    >>> E("demo_created", name="d").message("ja")
    'デモデータセット d を作成しました。'
    """

    prefix = ""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(self.message("en"))

    def localized(self, lang: str) -> dict[str, Any]:
        """The parameters as the message in ``lang`` shows them."""
        return self.params

    def message(self, lang: str = DEFAULT_LANG) -> str:
        return t(f"{self.prefix}.{self.code}", lang, **self.localized(lang))
