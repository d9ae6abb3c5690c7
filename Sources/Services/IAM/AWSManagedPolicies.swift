import Core

/// A few AWS managed policies that templates and tutorials attach (`arn:aws:iam::aws:policy/...`): present in every
/// account, listed with `Scope=AWS`, attachable, never changed. Dates (to the minute), default versions and documents
/// as AWS's managed policy reference showed them when written; the ids are derived from the names (stable across restarts).
struct AWSManagedPolicy: Sendable {
    var name: String
    var path: String
    var description: String
    var created: String
    var updated: String
    var version: String
    var document: String

    var arn: String { IAMFormat.arn(account: "aws", kind: "policy", path: path, name: name) }

    /// `ANPA` and 17 characters from a hash of the name.
    var id: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var out = "ANPA"
        for i in 0..<17 {
            for b in "\(name)#\(i)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            out.unicodeScalars.append(Unicode.Scalar(IAMFormat.idAlphabet[Int(h >> 59)]))
        }
        return out
    }

    static func find(path: String, name: String) -> AWSManagedPolicy? {
        all.first { $0.name == name && $0.path == path }
    }

    static let all: [AWSManagedPolicy] = [
        AWSManagedPolicy(
            name: "AdministratorAccess", path: "/", description: "Provides full access to AWS services and resources.",
            created: "2015-02-06T18:39:00Z", updated: "2015-02-06T18:39:00Z", version: "v1",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AmazonS3FullAccess", path: "/", description: "Provides full access to all buckets via the AWS Management Console.",
            created: "2015-02-06T18:40:00Z", updated: "2021-09-27T20:16:00Z", version: "v2",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AmazonS3ReadOnlyAccess", path: "/", description: "Provides read only access to all buckets via the AWS Management Console.",
            created: "2015-02-06T18:40:00Z", updated: "2023-08-10T21:31:00Z", version: "v3",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AmazonSQSFullAccess", path: "/", description: "Provides full access to Amazon SQS via the AWS Management Console.",
            created: "2015-02-06T18:41:00Z", updated: "2015-02-06T18:41:00Z", version: "v1",
            document: #"{"Version":"2012-10-17","Statement":[{"Action":["sqs:*"],"Effect":"Allow","Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AmazonSQSReadOnlyAccess", path: "/", description: "Provides read only access to Amazon SQS via the AWS Management Console.",
            created: "2015-02-06T18:41:00Z", updated: "2024-05-24T18:16:00Z", version: "v4",
            document: #"{"Version":"2012-10-17","Statement":[{"Sid":"AmazonSQSReadOnlyAccess","Effect":"Allow","Action":["sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues","sqs:ListMessageMoveTasks","sqs:ListQueueTags"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "SecretsManagerReadWrite", path: "/",
            description: "Provides read/write access to AWS Secrets Manager via the AWS Management Console. Note: this exludes IAM actions, so combine with IAMFullAccess if rotation configuration is required.",
            created: "2018-04-04T18:05:00Z", updated: "2024-02-22T18:12:00Z", version: "v5",
            document: #"{"Version":"2012-10-17","Statement":[{"Sid":"BasePermissions","Effect":"Allow","Action":["secretsmanager:*","cloudformation:CreateChangeSet","cloudformation:DescribeChangeSet","cloudformation:DescribeStackResource","cloudformation:DescribeStacks","cloudformation:ExecuteChangeSet","docdb-elastic:GetCluster","docdb-elastic:ListClusters","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs","kms:DescribeKey","kms:ListAliases","kms:ListKeys","lambda:ListFunctions","rds:DescribeDBClusters","rds:DescribeDBInstances","redshift:DescribeClusters","redshift-serverless:ListWorkgroups","redshift-serverless:GetNamespace","tag:GetResources"],"Resource":"*"},{"Sid":"LambdaPermissions","Effect":"Allow","Action":["lambda:AddPermission","lambda:CreateFunction","lambda:GetFunction","lambda:InvokeFunction","lambda:UpdateFunctionConfiguration"],"Resource":"arn:aws:lambda:*:*:function:SecretsManager*"},{"Sid":"SARPermissions","Effect":"Allow","Action":["serverlessrepo:CreateCloudFormationChangeSet","serverlessrepo:GetApplication"],"Resource":"arn:aws:serverlessrepo:*:*:applications/SecretsManager*"},{"Sid":"S3Permissions","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::awsserverlessrepo-changesets*","arn:aws:s3:::secrets-manager-rotation-apps-*/*"]}]}"#),
        AWSManagedPolicy(
            name: "IAMFullAccess", path: "/", description: "Provides full access to IAM via the AWS Management Console.",
            created: "2015-02-06T18:40:00Z", updated: "2024-01-25T19:11:00Z", version: "v2",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AWSLambdaBasicExecutionRole", path: "/service-role/", description: "Provides write permissions to CloudWatch Logs.",
            created: "2015-04-09T15:03:00Z", updated: "2015-04-09T15:03:00Z", version: "v1",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AWSLambdaSQSQueueExecutionRole", path: "/service-role/",
            description: "Provides receive message, delete message, and read attribute access to SQS queues, and write permissions to CloudWatch logs.",
            created: "2016-06-14T21:55:00Z", updated: "2016-06-14T21:55:00Z", version: "v1",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AWSLambdaDynamoDBExecutionRole", path: "/service-role/",
            description: "Provides list and read access to DynamoDB streams and write permissions to CloudWatch logs.",
            created: "2015-04-09T15:09:00Z", updated: "2015-04-09T15:09:00Z", version: "v1",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AWSLambdaRole", path: "/service-role/", description: "Default policy for AWS Lambda service role.",
            created: "2015-02-06T18:41:00Z", updated: "2015-02-06T18:41:00Z", version: "v1",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}"#),
        AWSManagedPolicy(
            name: "AWSCodeDeployRoleForLambda", path: "/service-role/",
            description: "Provides CodeDeploy service access to perform a Lambda deployment on your behalf.",
            created: "2017-11-28T14:05:00Z", updated: "2019-12-03T19:53:00Z", version: "v3",
            document: #"{"Version":"2012-10-17","Statement":[{"Action":["cloudwatch:DescribeAlarms","lambda:UpdateAlias","lambda:GetAlias","lambda:GetProvisionedConcurrencyConfig","sns:Publish"],"Resource":"*","Effect":"Allow"},{"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::*/CodeDeploy/*","Effect":"Allow"},{"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"*","Condition":{"StringEquals":{"s3:ExistingObjectTag/UseWithCodeDeploy":"true"}},"Effect":"Allow"},{"Action":["lambda:InvokeFunction"],"Resource":"arn:aws:lambda:*:*:function:CodeDeployHook_*","Effect":"Allow"}]}"#),
        AWSManagedPolicy(
            name: "CloudWatchLogsFullAccess", path: "/", description: "Provides full access to CloudWatch Logs",
            created: "2015-02-06T18:40:00Z", updated: "2023-08-07T17:15:00Z", version: "v2",
            document: #"{"Version":"2012-10-17","Statement":[{"Sid":"CloudWatchLogsFullAccess","Effect":"Allow","Action":["logs:*","cloudwatch:GenerateQuery"],"Resource":"*"}]}"#),
        AWSManagedPolicy(
            name: "AmazonECSTaskExecutionRolePolicy", path: "/service-role/",
            description: "Provides access to other AWS service resources that are required to run Amazon ECS tasks",
            created: "2017-11-16T18:48:00Z", updated: "2017-11-16T18:48:00Z", version: "v1",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#),
    ]
}
