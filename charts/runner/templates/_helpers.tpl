{{- define "dracon.image" -}}
{{- $img := .root.Values.image -}}
{{- $p := .producer | default dict -}}
{{- if $p.image -}}{{ $p.image }}{{- else -}}{{ $img.repository }}:{{ $img.tag | default .root.Chart.AppVersion }}{{- end -}}
{{- end -}}

{{- define "dracon.labels" -}}
app.kubernetes.io/name: dracon-runner
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* Every key of the bound secrets workspace becomes an environment variable. */}}
{{- define "dracon.exportSecrets" -}}
if [ "$(workspaces.secrets.bound)" = "true" ]; then
  for f in "$(workspaces.secrets.path)"/*; do
    [ -f "$f" ] || continue
    n=$(basename "$f")
    case "$n" in *[!A-Za-z0-9_]*|[0-9]*) continue ;; esac
    export "$n=$(cat "$f")"
  done
fi
{{- end -}}

{{- define "dracon.scanParams" -}}
- name: {{ .task }}-scan-id
  type: string
  description: the scan's id, named once by whoever started the run
- name: {{ .task }}-scan-time
  type: string
  description: the scan's start, RFC 3339
- name: {{ .task }}-scan-tags
  type: string
  description: the scan's tags, a JSON object of strings
  default: "{}"
- name: {{ .task }}-config
  type: string
  description: dracon.yaml's path relative to the source ("" for the default lookup)
  default: ""
{{- end -}}

{{- define "dracon.scanEnv" -}}
- name: DRACON_SCAN_ID
  value: $(params.{{ .task }}-scan-id)
- name: DRACON_SCAN_TIME
  value: $(params.{{ .task }}-scan-time)
- name: DRACON_SCAN_TAGS
  value: $(params.{{ .task }}-scan-tags)
- name: DRACON_CONFIG
  value: $(params.{{ .task }}-config)
{{- end -}}

{{- define "dracon.podPlacement" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
