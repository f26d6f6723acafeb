{{/* Names, labels, the environment and the pod spec shared by every component. */}}

{{- define "dotloop-reporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<chart>", or the release name alone when it holds the chart name. */}}
{{- define "dotloop-reporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dotloop-reporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource; call with (dict "root" $ "component" "worker"). */}}
{{- define "dotloop-reporter.labels" -}}
helm.sh/chart: {{ include "dotloop-reporter.chart" .root }}
{{ include "dotloop-reporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: dotloop-reporter
{{- end }}

{{/* The labels a component's selector matches on. */}}
{{- define "dotloop-reporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dotloop-reporter.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The labels every pod of the release carries (what NetworkPolicies select). */}}
{{- define "dotloop-reporter.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "dotloop-reporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dotloop-reporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dotloop-reporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dotloop-reporter.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "dotloop-reporter.supersetConfigName" -}}
{{- default (printf "%s-superset-config" (include "dotloop-reporter.fullname" .)) .Values.supersetConfig.name }}
{{- end }}

{{- define "dotloop-reporter.simulatorName" -}}
{{- printf "%s-simulator" (include "dotloop-reporter.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Service name the official Superset chart gives its web server. */}}
{{- define "dotloop-reporter.bundledSupersetName" -}}
{{- $values := .Values.superset }}
{{- if $values.fullnameOverride }}
{{- $values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "superset" $values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* SUPERSET_URL: supersetApi.url, else the bundled Superset's Service. */}}
{{- define "dotloop-reporter.supersetUrl" -}}
{{- if .Values.supersetApi.url }}
{{- .Values.supersetApi.url | trimSuffix "/" }}
{{- else if .Values.superset.enabled }}
{{- $port := 8088 }}
{{- with .Values.superset.service }}{{ with .port }}{{ $port = . }}{{ end }}{{ end }}
{{- printf "http://%s:%v" (include "dotloop-reporter.bundledSupersetName" .) $port }}
{{- end }}
{{- end }}

{{/*
Which Secret key each environment variable comes from, by group of
.Values.secrets. An optional key may be missing from its Secret.
*/}}
{{- define "dotloop-reporter.secretTable" -}}
database:
  - {env: DATABASE_URL, keyField: urlKey}
redis:
  - {env: REDIS_URL, keyField: urlKey}
dotloop:
  - {env: DOTLOOP_CLIENT_ID, keyField: clientIdKey}
  - {env: DOTLOOP_CLIENT_SECRET, keyField: clientSecretKey}
  - {env: DOTLOOP_REFRESH_TOKEN, keyField: refreshTokenKey}
reportingReader:
  - {env: REPORTING_READER_PASSWORD, keyField: passwordKey}
superset:
  - {env: SUPERSET_PASSWORD, keyField: passwordKey}
tokenEncryption:
  - {env: DOTLOOP_TOKEN_ENCRYPTION_KEY, keyField: key, optional: true}
webhooks:
  - {env: DOTLOOP_WEBHOOK_SECRET, keyField: signingKeyKey}
{{- end }}

{{/* The Secret a group reads from: its own existingSecret, else the shared one. */}}
{{- define "dotloop-reporter.secretName" -}}
{{- $group := index .root.Values.secrets .group }}
{{- default .root.Values.secrets.existingSecret $group.existingSecret }}
{{- end }}

{{/* The groups of Secrets the release cannot run without. */}}
{{- define "dotloop-reporter.requiredSecretGroups" -}}
{{- $groups := list "database" "redis" "dotloop" "reportingReader" }}
{{- if .Values.bundleImport.enabled }}{{ $groups = append $groups "superset" }}{{ end }}
{{- if .Values.webhooks.enabled }}{{ $groups = append $groups "webhooks" }}{{ end }}
{{- toJson $groups }}
{{- end }}

{{/* Stops rendering with a message naming what to set; called by every workload. */}}
{{- define "dotloop-reporter.validate" -}}
{{- $table := include "dotloop-reporter.secretTable" . | fromYaml }}
{{- range $group := include "dotloop-reporter.requiredSecretGroups" $ | fromJsonArray }}
{{- if not (include "dotloop-reporter.secretName" (dict "root" $ "group" $group)) }}
{{- $keys := list }}
{{- range index $table $group }}
{{- $keys = append $keys (printf "%q (%s)" (index (index $.Values.secrets $group) .keyField) .env) }}
{{- end }}
{{- fail (printf "\n\nsecrets.%s.existingSecret is not set: name an existing Secret holding the key(s) %s, or set secrets.existingSecret to one Secret holding every key. The chart never creates a Secret; see the chart's README for the kubectl command." $group (join ", " $keys)) }}
{{- end }}
{{- end }}
{{- if and .Values.bundleImport.enabled (not (include "dotloop-reporter.supersetUrl" .)) }}
{{- fail "\n\nsupersetApi.url is not set: give the URL of the Superset to import the dashboards into (e.g. http://superset.analytics.svc:8088), set superset.enabled=true for the bundled one, or set bundleImport.enabled=false." }}
{{- end }}
{{- end }}

{{/* Environment of a reporter container; call with (dict "root" $ "secrets" (list ...)). */}}
{{- define "dotloop-reporter.env" -}}
{{- $root := .root }}
{{- $config := $root.Values.config -}}
- name: HOME
  value: /tmp
- name: DOTLOOP_REPORTER_DATA_DIR
  value: {{ $config.dataDir | quote }}
{{- if $root.Values.simulator.enabled }}
{{- $base := printf "http://%s:%v" (include "dotloop-reporter.simulatorName" $root) $root.Values.simulator.port }}
- name: DOTLOOP_API_URL
  value: {{ printf "%s/public/v2" $base | quote }}
- name: DOTLOOP_AUTH_URL
  value: {{ printf "%s/oauth" $base | quote }}
{{- else }}
- name: DOTLOOP_API_URL
  value: {{ $config.dotloopApiUrl | quote }}
- name: DOTLOOP_AUTH_URL
  value: {{ $config.dotloopAuthUrl | quote }}
{{- end }}
- name: DOTLOOP_REQUESTS_PER_MINUTE
  value: {{ $config.requestsPerMinute | quote }}
{{- with $config.profileIds }}
- name: DOTLOOP_PROFILE_IDS
  value: {{ join "," . | quote }}
{{- end }}
- name: DOTLOOP_REPORTER_TIMEZONE
  value: {{ $config.timezone | quote }}
- name: DOTLOOP_SYNC_HOUR
  value: {{ $config.syncHour | quote }}
- name: DOTLOOP_RAW_SCHEMA
  value: {{ $config.rawSchema | quote }}
- name: REPORTING_SCHEMA
  value: {{ $config.reportingSchema | quote }}
- name: REPORTING_READER_ROLE
  value: {{ $config.reportingReaderRole | quote }}
{{- with include "dotloop-reporter.supersetUrl" $root }}
- name: SUPERSET_URL
  value: {{ . | quote }}
- name: SUPERSET_USERNAME
  value: {{ $root.Values.supersetApi.username | quote }}
{{- end }}
{{- include "dotloop-reporter.secretEnv" . }}
{{- with $config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* secretKeyRef entries of the given groups; call like dotloop-reporter.env. */}}
{{- define "dotloop-reporter.secretEnv" -}}
{{- $root := .root }}
{{- $table := include "dotloop-reporter.secretTable" $root | fromYaml }}
{{- range $group := .secrets }}
{{- $name := include "dotloop-reporter.secretName" (dict "root" $root "group" $group) }}
{{- if $name }}
{{- range index $table $group }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ $name | quote }}
      key: {{ index (index $root.Values.secrets $group) .keyField | quote }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Scratch volumes: the root filesystem is read-only. */}}
{{- define "dotloop-reporter.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.volumes.tmpSizeLimit }}
- name: data
  emptyDir:
    sizeLimit: {{ .Values.volumes.dataSizeLimit }}
{{- end }}

{{- define "dotloop-reporter.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ .Values.config.dataDir }}
{{- end }}

{{/*
A reporter container; call with (dict "root" $ "name" "worker" "args" (list ...)
"secrets" (list ...) "resources" {...}) and optionally "probes" (YAML text)
and "ports" (YAML text).
*/}}
{{- define "dotloop-reporter.container" -}}
{{- $root := .root -}}
- name: {{ .name }}
  image: {{ include "dotloop-reporter.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    {{- toYaml (concat (list "--log-level" $root.Values.config.logLevel) .args) | nindent 4 }}
  env:
    {{- include "dotloop-reporter.env" . | nindent 4 }}
  {{- with .ports }}
  ports:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with .probes }}
  {{- . | nindent 2 }}
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  volumeMounts:
    {{- include "dotloop-reporter.volumeMounts" $root | nindent 4 }}
{{- end }}

{{/* Pod-level fields shared by every pod of the release. */}}
{{- define "dotloop-reporter.podCommon" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "dotloop-reporter.volumes" . | nindent 2 }}
{{- end }}

{{/*
The ServiceAccount of hook Jobs: they run before the release's own account
exists on a first install, so they use an account only when it already
exists (serviceAccount.create false with a name).
*/}}
{{- define "dotloop-reporter.hookServiceAccount" -}}
{{- if and (not .Values.serviceAccount.create) .Values.serviceAccount.name -}}
serviceAccountName: {{ .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Pod metadata of a component; call with (dict "root" $ "component" "..."). */}}
{{- define "dotloop-reporter.podMetadata" -}}
labels:
  {{- include "dotloop-reporter.labels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .root.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
