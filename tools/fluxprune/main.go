// fluxprune applies and prunes objects the way Flux's kustomize-controller v1.9.4 reconciles one
// Kustomization with `prune: true`, with the library it uses (fluxcd/pkg/ssa, pinned in go.mod):
// the same field manager and ownership labels, the same staged server-side apply and its options,
// an inventory of what was applied, and garbage collection of what left it, which skips objects
// annotated kustomize.toolkit.fluxcd.io/prune: disabled (or reconcile: disabled, or ssa: Ignore).
// It talks to the cluster $KUBECONFIG names. The controller keeps the inventory in the
// Kustomization's status; here it is a JSON file.
//
//	fluxprune apply NAME NAMESPACE INVENTORY < objects.yaml
//	fluxprune delete NAME NAMESPACE INVENTORY
//
// apply is one reconciliation of Kustomization NAMESPACE/NAME: it applies the YAML stream on stdin
// (a build), records the new inventory in the file INVENTORY (missing: the first reconciliation),
// then prunes each object of the previous inventory that the build no longer has. delete is the
// Kustomization's finalizer under the default deletion policy (MirrorPrune, prune being on): it prunes
// every object of the inventory, as when the Kustomization itself is removed from Git, and then
// removes the file. Each prints one line per object: "Kind/namespace/name action", the action being
// created, configured, unchanged, deleted or skipped (not deleted: excluded or owned by another).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// as kustomize-controller v1.9.4's main.go names itself, and its default --concurrent-ssa
const (
	controllerName = "kustomize-controller"
	concurrentSSA  = 4
)

var group = kustomizev1.GroupVersion.Group

func main() {
	if len(os.Args) != 5 || (os.Args[1] != "apply" && os.Args[1] != "delete") {
		fmt.Fprintln(os.Stderr, "usage: fluxprune apply|delete NAME NAMESPACE INVENTORY")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4]); err != nil {
		fmt.Fprintln(os.Stderr, "fluxprune:", err)
		os.Exit(1)
	}
}

func run(command, name, namespace, inventoryFile string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	manager, err := resourceManager()
	if err != nil {
		return err
	}
	old, err := readInventory(inventoryFile)
	if err != nil {
		return err
	}
	if command == "delete" {
		objects, err := list(old)
		if err != nil {
			return err
		}
		changeSet, err := deleteObjects(ctx, manager, name, namespace, objects)
		report(changeSet)
		if err != nil {
			return err
		}
		return os.Remove(inventoryFile)
	}

	objects, err := ssautil.ReadObjects(os.Stdin)
	if err != nil {
		return fmt.Errorf("reading the objects: %w", err)
	}
	manager.SetOwnerLabels(objects, name, namespace)
	applied, err := apply(ctx, manager, objects)
	report(applied)
	if err != nil {
		return err
	}
	current := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	for _, entry := range applied.Entries {
		current.Entries = append(current.Entries, kustomizev1.ResourceRef{
			ID: entry.ObjMetadata.String(), Version: entry.GroupVersion})
	}
	stale, err := diff(old, current)
	if err != nil {
		return err
	}
	pruned, pruneErr := deleteObjects(ctx, manager, name, namespace, stale)
	report(pruned)
	if pruneErr != nil {
		// as the controller does, keep tracking what could not be deleted, so that the next run retries
		current.Entries = append(current.Entries, survivors(stale, pruned)...)
	}
	if err := writeInventory(inventoryFile, current); err != nil {
		return err
	}
	return pruneErr
}

func resourceManager() (*ssa.ResourceManager, error) {
	config, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, err
	}
	httpClient, err := rest.HTTPClientFor(config)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(config, httpClient)
	if err != nil {
		return nil, err
	}
	kubeClient, err := client.New(config, client.Options{HTTPClient: httpClient, Mapper: mapper})
	if err != nil {
		return nil, err
	}
	poller := polling.NewStatusPoller(kubeClient, mapper, polling.Options{})
	manager := ssa.NewResourceManager(kubeClient, poller, ssa.Owner{Field: controllerName, Group: group})
	manager.SetConcurrency(concurrentSSA)
	return manager, nil
}

// apply: KustomizationReconciler.apply of kustomize-controller v1.9.4, for a Kustomization that sets
// neither force, ignore rules nor common metadata, with the controller's default flags and feature gates.
func apply(ctx context.Context, manager *ssa.ResourceManager, objects []*unstructured.Unstructured) (*ssa.ChangeSet, error) {
	if err := normalize.UnstructuredList(objects); err != nil {
		return nil, err
	}
	opts := ssa.DefaultApplyOptions()
	opts.ExclusionSelector = map[string]string{
		group + "/reconcile": kustomizev1.DisabledValue,
		group + "/ssa":       kustomizev1.IgnoreValue,
	}
	opts.IfNotPresentSelector = map[string]string{group + "/ssa": kustomizev1.IfNotPresentValue}
	opts.ForceSelector = map[string]string{group + "/force": kustomizev1.EnabledValue}
	managers := []ssa.FieldManager{
		{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
		{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
		{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
		{Name: controllerName, OperationType: metav1.ManagedFieldsOperationUpdate},
	}
	opts.Cleanup = ssa.ApplyCleanupOptions{
		Annotations:   []string{corev1.LastAppliedConfigAnnotation, group + "/checksum", "fluxcd.io/sync-checksum"},
		Labels:        []string{"fluxcd.io/sync-gc-mark"},
		FieldManagers: managers,
		Exclusions:    map[string]string{group + "/ssa": kustomizev1.MergeValue},
	}
	result := ssa.NewChangeSet()
	if len(objects) == 0 {
		return result, nil
	}
	changeSet, err := manager.ApplyAllStaged(ctx, objects, opts)
	if changeSet != nil {
		result.Append(changeSet.Entries)
	}
	return result, err
}

// deleteObjects: kustomize-controller v1.9.4's deleteObjects, used both by garbage collection and by
// the finalizer: only objects that still carry this Kustomization's ownership labels, none excluded.
func deleteObjects(ctx context.Context, manager *ssa.ResourceManager, name, namespace string,
	objects []*unstructured.Unstructured) (*ssa.ChangeSet, error) {
	return manager.DeleteAll(ctx, objects, ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		Inclusions:        manager.GetOwnerLabels(name, namespace),
		Exclusions: map[string]string{
			group + "/prune":     kustomizev1.DisabledValue,
			group + "/reconcile": kustomizev1.DisabledValue,
			group + "/ssa":       kustomizev1.IgnoreValue,
		},
	})
}

func readInventory(path string) (*kustomizev1.ResourceInventory, error) {
	inventory := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return inventory, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, inventory); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inventory, nil
}

func writeInventory(path string, inventory *kustomizev1.ResourceInventory) error {
	data, err := json.MarshalIndent(inventory, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

// objectOf is an inventory entry as the object a delete request names.
func objectOf(id object.ObjMetadata, version string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: id.GroupKind.Group, Version: version, Kind: id.GroupKind.Kind})
	u.SetName(id.Name)
	u.SetNamespace(id.Namespace)
	return u
}

func list(inventory *kustomizev1.ResourceInventory) ([]*unstructured.Unstructured, error) {
	objects := []*unstructured.Unstructured{}
	for _, entry := range inventory.Entries {
		id, err := object.ParseObjMetadata(entry.ID)
		if err != nil {
			return nil, err
		}
		objects = append(objects, objectOf(id, entry.Version))
	}
	sort.Sort(ssa.SortableUnstructureds(objects))
	return objects, nil
}

// diff: the objects of old that current lacks (the stale objects), at old's version.
func diff(old, current *kustomizev1.ResourceInventory) ([]*unstructured.Unstructured, error) {
	ids := func(inventory *kustomizev1.ResourceInventory) (object.ObjMetadataSet, map[string]string, error) {
		set := object.ObjMetadataSet{}
		versions := map[string]string{}
		for _, entry := range inventory.Entries {
			id, err := object.ParseObjMetadata(entry.ID)
			if err != nil {
				return nil, nil, err
			}
			set = append(set, id)
			versions[entry.ID] = entry.Version
		}
		return set, versions, nil
	}
	before, versions, err := ids(old)
	if err != nil {
		return nil, err
	}
	after, _, err := ids(current)
	if err != nil {
		return nil, err
	}
	objects := []*unstructured.Unstructured{}
	for _, id := range before.Diff(after) {
		objects = append(objects, objectOf(id, versions[id.String()]))
	}
	sort.Sort(ssa.SortableUnstructureds(objects))
	return objects, nil
}

// survivors: the stale objects whose deletion was neither confirmed nor skipped on purpose.
func survivors(stale []*unstructured.Unstructured, changeSet *ssa.ChangeSet) []kustomizev1.ResourceRef {
	settled := map[string]bool{}
	if changeSet != nil {
		for _, entry := range changeSet.Entries {
			if entry.Action == ssa.DeletedAction || entry.Action == ssa.SkippedAction {
				settled[entry.ObjMetadata.String()] = true
			}
		}
	}
	refs := []kustomizev1.ResourceRef{}
	for _, obj := range stale {
		id := object.UnstructuredToObjMetadata(obj).String()
		if !settled[id] {
			refs = append(refs, kustomizev1.ResourceRef{ID: id, Version: obj.GroupVersionKind().Version})
		}
	}
	return refs
}

func report(changeSet *ssa.ChangeSet) {
	if changeSet == nil {
		return
	}
	for _, entry := range changeSet.Entries {
		fmt.Println(entry.String())
	}
}
