package tekton

// The client libraries cluster mode is built on, pinned here until the
// code that uses them lands.
import (
	_ "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	_ "github.com/tektoncd/pipeline/pkg/client/clientset/versioned"
	_ "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/fake"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "k8s.io/client-go/tools/clientcmd"
)
