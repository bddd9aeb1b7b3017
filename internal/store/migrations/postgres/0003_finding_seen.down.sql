DROP VIEW findings_v;
