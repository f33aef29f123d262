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

{{/* Label that marks the operator's own pods; the operator lets sandbox pods admit them. */}}
{{- define "rollout-farm.operatorPodLabelKey" -}}
rolloutfarm.io/operator
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

{{/* Rules the operator needs, exactly the verbs it uses: informers (list, watch) on the farm's
resources and the workloads it owns, get/create/update/delete on the children it applies, list on
pods (learner health, sandbox endpoints), status patches and Events. Used by the ClusterRole (all
namespaces) and by each namespaced Role (watchNamespaces). */}}
{{- define "rollout-farm.operatorRules" -}}
- apiGroups: ["rolloutfarm.io"]
  resources: ["trainingruns"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["rolloutfarm.io"]
  resources: ["sandboxpools"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["rolloutfarm.io"]
  resources: ["trainingruns/status", "sandboxpools/status"]
  verbs: ["update", "patch"]
- apiGroups: ["apps"]
  resources: ["statefulsets", "deployments"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "create", "update", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "create", "update", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}
