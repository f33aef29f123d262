{{/* Name of the chart, overridable. */}}
{{- define "rollout-farm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified name of the operator's objects. */}}
{{- define "rollout-farm.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "rollout-farm.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "rollout-farm.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Kubernetes recommended labels. */}}
{{- define "rollout-farm.labels" -}}
app.kubernetes.io/name: {{ include "rollout-farm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: rollout-farm
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels selecting the operator pod. */}}
{{- define "rollout-farm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollout-farm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* ServiceAccount of the operator. */}}
{{- define "rollout-farm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rollout-farm.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Full image reference: include "rollout-farm.image" (list . "learner"). */}}
{{- define "rollout-farm.image" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $repo := index $root.Values.images $component -}}
{{- printf "%s/%s:%s" $root.Values.images.registry $repo (default $root.Chart.AppVersion $root.Values.images.tag) -}}
{{- end -}}

{{/* Rules the operator needs on the farm's own resources and on what it creates. Used by the
ClusterRole (all namespaces) and by each namespaced Role (watchNamespaces). */}}
{{- define "rollout-farm.operatorRules" -}}
- apiGroups: ["rolloutfarm.io"]
  resources: ["trainingruns", "sandboxpools"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["rolloutfarm.io"]
  resources: ["trainingruns/status", "sandboxpools/status", "sandboxpools/scale"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["rolloutfarm.io"]
  resources: ["sandboxpools"]
  verbs: ["create", "delete"]
- apiGroups: ["apps"]
  resources: ["statefulsets", "deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
