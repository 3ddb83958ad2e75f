{{/* Names and labels shared by every template of the chart. */}}

{{- define "chatcluster-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "chatcluster-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "chatcluster-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "chatcluster-operator.selectorLabels" -}}
app.kubernetes.io/name: chatcluster-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "chatcluster-operator.labels" -}}
{{ include "chatcluster-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: chatcluster
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The rules of what the operator reconciles, nothing else. */}}
{{- define "chatcluster-operator.rules" -}}
- apiGroups: [chatcluster.io]
  resources: [chatclusters]
  verbs: [get, list, watch]
- apiGroups: [chatcluster.io]
  resources: [chatclusters/status]
  verbs: [get, patch]
- apiGroups: ['']
  resources: [configmaps, services, serviceaccounts]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses, networkpolicies]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [argoproj.io]
  resources: [rollouts, analysistemplates]
  verbs: [get, list, watch, create, patch, delete]
# Read only, one by name: the AnalysisRun an aborted canary names, for the failing metric.
- apiGroups: [argoproj.io]
  resources: [analysisruns]
  verbs: [get]
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors, prometheusrules]
  verbs: [get, list, watch, create, patch, delete]
# Events: patch to aggregate a repeat into the Event already written (count, lastTimestamp).
- apiGroups: ['']
  resources: [events]
  verbs: [create, patch]
# Secrets: get by name only, the ones a ChatCluster's pods read, for the checksum that rolls the pods
# on a change (docs/architecture.md, "Secrets roll pods"). No list or watch: the operator cannot
# enumerate Secrets, and keeps only a keyed digest of what it reads.
- apiGroups: ['']
  resources: [secrets]
  verbs: [get]
# Secrets: create, for the internal API token and the key-encryption keys it generates when a
# ChatCluster names none (created once, never updated, patched or deleted by the operator).
# Kubernetes cannot limit create to resource names, so this is the narrowest grant that works.
- apiGroups: ['']
  resources: [secrets]
  verbs: [create]
{{- end -}}
